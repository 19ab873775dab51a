/**
 * End to end: the built web UI in Debian's Chromium (playwright-core) against the real server on
 * SQLite and a real git repository served over HTTP. One story, in order: log in, list, drift,
 * sync through the confirm dialog, invalid specs with file:line, roll back, edit an unmanaged
 * field and get a 409 on a managed one, live update from an API sync, viewer gating, logout;
 * axe-core on every page (no serious or critical violations) and no JavaScript errors.
 *
 * SYNCLINE_UI_SCREENSHOTS=1 also saves a screenshot of each page to docs/ui/.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, type FixtureRepo, type GitHttpServer } from '../helpers/git-fixtures.js';
import { api, createSource, makeSyncApp, namedToken, putNamespace, ROOT, y } from '../integration/sync/support.js';

const CHROMIUM = process.env.SYNCLINE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.SYNCLINE_UI_SCREENSHOTS === '1' ? path.join(ROOT, 'docs/ui') : null;
const UI_DIST = path.join(ROOT, 'ui/dist/index.html');

/** Rebuilds the UI when a source file is newer than the build (npm ci builds it once). */
function ensureUiBuilt(): void {
  const built = fs.existsSync(UI_DIST) ? fs.statSync(UI_DIST).mtimeMs : 0;
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'dist' && e.name !== 'node_modules') walk(p);
      } else newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  walk(path.join(ROOT, 'ui'));
  if (newest > built) execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'ui/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

const workload = (name: string, ...spec: string[]) => y('kind: Workload', `name: ${name}`, 'spec:', ...spec.map((l) => `  ${l}`));

describe('web UI in Chromium', () => {
  let t: TestApp;
  let server: GitHttpServer;
  let repo: FixtureRepo;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let adminToken: string;
  let viewerToken: string;
  const jsErrors: string[] = [];
  const axeResults: Record<string, number> = {};
  let first: string;

  async function axe(name: string): Promise<void> {
    const result = await new AxeBuilder({ page }).analyze();
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    axeResults[name] = bad.length;
    expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), `axe on ${name}`).toEqual([]);
  }

  async function shot(name: string): Promise<void> {
    if (!SHOTS) return;
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
  }

  async function visit(url: string, name: string, ready: () => Promise<unknown>): Promise<void> {
    await page.goto(`${base}${url}`);
    await ready();
    await axe(name);
    await shot(name);
  }

  async function login(token: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Namespaces' }).waitFor();
  }

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    ensureUiBuilt();
    t = await makeSyncApp('sqlite');
    const root = await tempDir('syncline-upstream-');
    repo = await makeRepo({ root, name: 'shop' });
    first = await commitFiles(repo, {
      'prod/api.yaml': workload('api', 'port: 8080', 'deploy_strategy: rolling'),
      'prod/worker.yaml': workload('worker', 'port: 9000'),
      'staging/api.yaml': workload('api', 'port: 8081'),
    }, 'first');
    server = await serveGitHttp(root);
    await createSource(t, 'shop', server.repoUrl('shop'));
    await putNamespace(t, 'shop.prod', { source: 'shop', branch: 'main', path: 'prod', prune: true });
    await putNamespace(t, 'shop.staging', { source: 'shop', branch: 'main', path: 'staging' });
    adminToken = await namedToken(t, 'alice', 'admin');
    viewerToken = await namedToken(t, 'victor', 'viewer');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
      colorScheme: 'light',
      // No animations (the UI honours prefers-reduced-motion): a click sent while an accordion
      // panel was still opening was lost under load (the Deployments tab's "Deploy this commit").
      reducedMotion: 'reduce',
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => jsErrors.push(`pageerror: ${e.message}`));
    // HTTP error statuses the UI handles (401 before login, 404 of optional APIs, 409/422) are
    // logged by Chromium as "Failed to load resource"; those are not script errors.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) jsErrors.push(`console: ${m.text()}`);
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await t?.close();
    await cleanupTempDirs();
  });

  it('log in and see the namespace list with both status badges', async () => {
    await page.goto(`${base}/namespaces`);
    await page.getByLabel('API token').waitFor();
    await axe('login');
    await shot('login');
    await page.getByLabel('API token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Unknown or revoked token').waitFor();
    await login(adminToken);
    const row = page.getByTestId('ns-row-shop.prod');
    await expect(row.getByTestId('drift-badge').textContent()).resolves.toBe('Never synced');
    await expect(row.getByTestId('run-badge').textContent()).resolves.toBe('No runs');
    await expect(page.getByTestId('whoami').textContent()).resolves.toContain('alice');
    // The session is an HttpOnly cookie: nothing in storage, nothing readable by script.
    const readable = await page.evaluate(() => [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)]);
    expect(readable[0]).toBe('');
    expect(readable.join('\n')).not.toContain(adminToken);
    await axe('namespaces');
  });

  it('drift, then sync through the confirm dialog (focus on Cancel)', async () => {
    await visit('/namespaces/shop.prod/drift', 'namespace-drift', () => page.getByTestId('changes-table').waitFor());
    await expect(page.getByTestId('changes-table').textContent()).resolves.toContain('Workload/api');
    await page.getByTestId('sync-now').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('summary').waitFor();
    await expect(dialog.getByTestId('summary').textContent()).resolves.toContain('2 create');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await axe('sync-dialog');
    await shot('sync-dialog');
    await dialog.getByTestId('confirm-sync').click();
    await dialog.getByTestId('sync-result').waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByTestId('drift-badge').filter({ hasText: 'In sync' }).first().waitFor();
  });

  it('a plan that deletes needs the namespace name typed', async () => {
    await commitFiles(repo, { 'prod/worker.yaml': null, 'prod/api.yaml': workload('api', 'port: 8088', 'deploy_strategy: rolling') }, 'drop worker');
    await page.goto(`${base}/namespaces/shop.prod/drift`);
    await page.getByTestId('sync-now').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('confirm-name').waitFor();
    await expect(dialog.getByTestId('summary').textContent()).resolves.toContain('1 delete');
    await expect(dialog.getByTestId('confirm-sync').isDisabled()).resolves.toBe(true);
    await dialog.getByTestId('confirm-name').fill('shop.pro');
    await expect(dialog.getByTestId('confirm-sync').isDisabled()).resolves.toBe(true);
    await dialog.getByTestId('confirm-name').fill('shop.prod');
    await dialog.getByTestId('confirm-sync').click();
    await dialog.getByTestId('sync-result').waitFor();
    await page.keyboard.press('Escape');
    await expect(dialog.isHidden()).resolves.toBe(true);
  });

  it('invalid specs show file:line, in the dialog and on the Drift tab', async () => {
    await commitFiles(repo, { 'prod/bad.yaml': y('kind: Workload', 'name: bad', 'spec:', '  port: nope') }, 'bad');
    await page.goto(`${base}/namespaces/shop.prod/drift`);
    await page.getByTestId('invalid-list').waitFor();
    await expect(page.getByTestId('invalid-list').textContent()).resolves.toMatch(/prod\/bad\.yaml:\d+(:\d+)?/);
    await page.getByTestId('sync-now').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('invalid-list').waitFor();
    await expect(dialog.getByTestId('confirm-sync').isDisabled()).resolves.toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // A sync made anyway (through the API) is refused with 422; the deployment lists the file.
    expect((await api(t, 'POST', '/namespaces/shop.prod/sync-from-git', {})).statusCode).toBe(422);
    await commitFiles(repo, { 'prod/bad.yaml': null }, 'fix');
  });

  it('roll back to an earlier commit from the Deployments tab, with a reason', async () => {
    await visit('/namespaces/shop.prod/deployments', 'namespace-deployments', () => page.getByTestId('deployment').first().waitFor());
    // The oldest successful deployment is the first commit.
    const oldest = page.getByTestId('deployment').last();
    await oldest.getByRole('button').first().click();
    await oldest.getByTestId('deploy-commit').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('summary').waitFor();
    await expect(dialog.getByTestId('summary').textContent()).resolves.toContain('1 create');
    await expect(dialog.getByTestId('confirm-sync').isDisabled()).resolves.toBe(true); // reason first
    await dialog.getByLabel('Reason').fill('worker is still needed');
    await dialog.getByTestId('confirm-sync').click();
    await dialog.getByTestId('sync-result').waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    const live = (await api(t, 'GET', '/namespaces/shop.prod/resources')).json().items.map((r: { name: string; commit: string }) => `${r.name}@${r.commit.slice(0, 7)}`);
    expect(live.sort()).toEqual([`api@${first.slice(0, 7)}`, `worker@${first.slice(0, 7)}`]);
  });

  it('edit an unmanaged field; a managed one is refused with 409, explained', async () => {
    await visit('/namespaces/shop.prod/resources', 'namespace-resources', () => page.getByRole('link', { name: 'Workload/api' }).waitFor());
    await page.getByRole('link', { name: 'Workload/api' }).click();
    const drawer = page.getByRole('dialog');
    await drawer.getByTestId('patch-input').waitFor();
    expect(page.url()).toContain('resource=Workload%2Fapi');
    await drawer.getByTestId('patch-input').fill('{"healthcheck": {"path": "/ready"}}');
    await drawer.getByRole('button', { name: 'Apply patch' }).click();
    await drawer.getByTestId('patch-ok').waitFor();
    await axe('resource-drawer');
    await shot('resource-drawer');
    await drawer.getByTestId('patch-input').fill('{"port": 1234}');
    await drawer.getByRole('button', { name: 'Apply patch' }).click();
    await drawer.getByTestId('patch-409').waitFor();
    await expect(drawer.getByTestId('patch-409').textContent()).resolves.toContain('managed by git');
    await page.keyboard.press('Escape');
    await page.waitForURL((u) => !u.search.includes('resource='));
  });

  it('every other page renders, passes axe, and keeps its state in the URL', async () => {
    await visit('/namespaces/shop.prod/files?file=prod%2Fapi.yaml', 'namespace-files', () => page.getByLabel('prod/api.yaml', { exact: true }).waitFor());
    await visit('/namespaces/shop.prod/plans', 'namespace-plans', () => page.getByRole('tabpanel').getByText('Plan via API').first().waitFor()); // the sync dialog's plans are stored (trigger api)
    await visit('/sources', 'sources', () => page.getByRole('button', { name: 'Check source shop' }).waitFor());
    await page.getByRole('button', { name: 'Check source shop' }).click();
    await page.getByText(/Reachable: main at [0-9a-f]{7}/).waitFor();
    await visit('/mirrors', 'mirrors', () => page.getByRole('heading', { name: 'Mirrors' }).waitFor());
    await visit('/webhooks', 'webhooks', () => page.getByRole('heading', { name: 'Recent deliveries' }).waitFor());
    await visit('/audit?namespace=shop.prod', 'audit', () => page.getByRole('table', { name: 'Audit' }).waitFor());
    await visit('/tokens', 'tokens', () => page.getByRole('table', { name: 'Tokens' }).waitFor());
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('dialog').getByRole('textbox', { name: /^Name\b/ }).fill('ci-bot');
    await page.getByRole('dialog').getByRole('button', { name: 'Create token' }).click();
    await expect(page.getByTestId('new-token').textContent()).resolves.toMatch(/^syl_/);
    await page.getByRole('dialog').getByRole('button', { name: 'Close', exact: true }).click();
    // Filters live in the URL.
    await page.goto(`${base}/namespaces?drift=drifted`);
    await page.getByTestId('ns-row-shop.prod').waitFor();
    await expect(page.getByTestId('ns-row-shop.staging').count()).resolves.toBe(0);
    // Narrow screens work too.
    await page.setViewportSize({ width: 390, height: 844 });
    await visit('/namespaces', 'namespaces-mobile', () => page.getByTestId('ns-row-shop.prod').waitFor());
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 180_000); // fourteen pages, each with an axe scan: minutes under load

  it('a sync made through the API appears without a reload', async () => {
    await page.goto(`${base}/namespaces`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    const row = page.getByTestId('ns-row-shop.staging');
    await expect(row.getByTestId('drift-badge').textContent()).resolves.toBe('Never synced');
    await shot('namespaces');
    expect((await api(t, 'POST', '/namespaces/shop.staging/sync-from-git', {})).statusCode).toBe(200);
    await row.getByTestId('drift-badge').filter({ hasText: 'In sync' }).waitFor();
    await expect(row.getByTestId('run-badge').textContent()).resolves.toBe('Succeeded');
  });

  it('a viewer sees no sync button and no admin pages; logout ends the session', async () => {
    await page.getByTestId('logout').click();
    await page.getByLabel('API token').waitFor();
    await login(viewerToken);
    await page.goto(`${base}/namespaces/shop.prod/drift`);
    await page.getByRole('heading', { name: 'shop.prod' }).waitFor();
    await expect(page.getByTestId('sync-now').count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Tokens' }).count()).resolves.toBe(0);
    await page.goto(`${base}/namespaces/shop.prod/resources?resource=Workload%2Fapi`);
    await page.getByRole('dialog').getByText('/spec/port').waitFor();
    await expect(page.getByTestId('patch-input').count()).resolves.toBe(0);
    await page.keyboard.press('Escape');
    await page.getByTestId('logout').click();
    await page.getByLabel('API token').waitFor();
    const who = await page.evaluate(() => fetch('/api/v1/whoami').then((r) => r.status));
    expect(who).toBe(401);
    expect(jsErrors).toEqual([]);
    // eslint-disable-next-line no-console
    console.log(`axe (serious+critical violations per page): ${JSON.stringify(axeResults)}`);
  });
});
