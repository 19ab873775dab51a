/**
 * The `syncline` CLI in local mode on a SQLite data dir: the tokens it prints work against a
 * server opened on the same data dir. Run in-process (test/helpers/cli.ts); the executable itself
 * (bin/syncline.js) is run for the first case and for two processes starting at once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTestApp } from '../../helpers/app.js';
import { runCli, spawnCli } from '../../helpers/cli.js';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-cli-'));
  tmpDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Subcommand names listed under "Commands:" in a commander help text. */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return section
    .split('\n')
    .map((l) => /^ {2}(\S+)/.exec(l)?.[1])
    .filter((c): c is string => !!c && c !== 'help');
}

describe('CLI (local mode, SQLite)', () => {
  it('token create prints a token once, and it authenticates against the server', async () => {
    const dataDir = tmpDir();
    // The real executable, once: bin/syncline.js → tsx → the CLI.
    const res = await spawnCli(['token', 'create', '--name', 'ci', '--role', 'admin'], { SYNCLINE_DATA_DIR: dataDir });
    expect(res.code, res.stderr).toBe(0);
    const token = res.stdout.trim();
    expect(token).toMatch(/^syl_[A-Za-z0-9_-]{40,}$/);
    expect(res.stderr).toMatch(/Created token tok_\S+ \(admin\)\. It is shown only once/);

    const t = await makeTestApp('sqlite', { dataDir, keepData: true });
    try {
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: t.auth(token) });
      expect(me.statusCode).toBe(200);
      expect(me.json().items).toEqual([expect.objectContaining({ name: 'ci', role: 'admin', created_by: 'cli' })]);
      expect(me.body).not.toContain(token);
    } finally {
      await t.close();
    }
  });

  it('token create --namespace (repeatable) and --json; token list; token revoke', async () => {
    const env = { SYNCLINE_DATA_DIR: tmpDir() };
    const created = await runCli(['token', 'create', '--name', 'shop-ci', '--role', 'deployer', '--namespace', 'shop.*', '--namespace', 'billing.prod', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const body = JSON.parse(created.stdout);
    expect(body).toMatchObject({ name: 'shop-ci', role: 'deployer', namespaces: ['shop.*', 'billing.prod'], token: expect.stringMatching(/^syl_/) });

    const list = await runCli(['token', 'list', '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).items).toEqual([expect.objectContaining({ id: body.id, namespaces: ['shop.*', 'billing.prod'] })]);
    expect(list.stdout).not.toContain(body.token);

    const revoke = await runCli(['token', 'revoke', body.id], env);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(JSON.parse((await runCli(['token', 'list', '--json'], env)).stdout).items).toEqual([]);
  });

  it('a bad role fails with the API error, exit code 1, and creates nothing', async () => {
    const env = { SYNCLINE_DATA_DIR: tmpDir() };
    const res = await runCli(['token', 'create', '--name', 'x', '--role', 'root'], env);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/invalid_request: .*'role'/);
    expect(JSON.parse((await runCli(['token', 'list', '--json'], env)).stdout).items).toEqual([]);
  });

  it('source add reads credentials from the environment, never argv, and never prints them', async () => {
    const env = { SYNCLINE_DATA_DIR: tmpDir(), SYNCLINE_ALLOWED_HOSTS: 'git.example.com', SHOP_TOKEN: 'ghp_cli-planted-token-value' };
    const add = await runCli(['source', 'add', 'shop', 'https://git.example.com/acme/shop.git', '--token-env', 'SHOP_TOKEN', '--no-check'], env);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('Added source shop (git, auth token) (not checked)');
    const missing = await runCli(['source', 'add', 'other', 'https://git.example.com/a/b.git', '--token-env', 'UNSET_VARIABLE'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('UNSET_VARIABLE');

    const ns = await runCli(['namespace', 'set', 'shop.prod', '--source', 'shop', '--path', 'config/prod'], env);
    expect(ns.code, ns.stderr).toBe(0);
    expect(ns.stdout).toContain('Namespace shop.prod: shop@main:config/prod (never_synced)');

    const sources = await runCli(['source', 'list', '--json'], env);
    expect(JSON.parse(sources.stdout).items).toEqual([expect.objectContaining({ name: 'shop', auth: expect.objectContaining({ type: 'token', configured: true }) })]);
    const namespaces = await runCli(['namespace', 'list'], env);
    expect(namespaces.stdout).toMatch(/^NAME\s+SOURCE\s+BRANCH/m);
    expect(namespaces.stdout).toMatch(/^shop\.prod\s+shop\s+main\s+config\/prod/m);
    for (const out of [add, ns, sources, namespaces]) expect(out.stdout + out.stderr).not.toContain('ghp_cli-planted-token-value');

    // The URL guard applies to the CLI too.
    const ssrf = await runCli(['source', 'add', 'meta', 'http://169.254.169.254/x'], env);
    expect(ssrf.code).toBe(1);
    expect(ssrf.stderr).toContain('host_not_allowed');
  });

  it('two CLI processes starting on a fresh data dir at once both work (migrations and key creation are safe)', async () => {
    const dataDir = tmpDir();
    const env = { SYNCLINE_DATA_DIR: dataDir };
    const [a, b] = await Promise.all([
      spawnCli(['token', 'create', '--name', 'a', '--role', 'viewer'], env),
      spawnCli(['token', 'create', '--name', 'b', '--role', 'viewer'], env),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const t = await makeTestApp('sqlite', { dataDir, keepData: true });
    try {
      for (const r of [a, b]) {
        expect((await t.app.inject({ method: 'GET', url: '/api/v1/kinds', headers: t.auth(r.stdout.trim()) })).statusCode).toBe(200);
      }
    } finally {
      await t.close();
    }
  });

  it('a bad setting fails before anything starts, naming it (exit code 2)', async () => {
    const env = { SYNCLINE_DATA_DIR: tmpDir() };
    const port = await runCli(['serve'], { ...env, SYNCLINE_PORT: 'abc' });
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/SYNCLINE_PORT: /);
    const level = await runCli(['token', 'list'], { ...env, SYNCLINE_LOG_LEVEL: 'loud' });
    expect(level.code).toBe(2);
    expect(level.stderr).toMatch(/SYNCLINE_LOG_LEVEL: /);

    const cwd = tmpDir();
    fs.writeFileSync(path.join(cwd, 'syncline.yaml'), 'port: 7421\nlog_levle: debug\n');
    const unknown = await runCli(['serve'], env, cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('log_levle');
  });

  it('--help works for every command and subcommand', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    const commands = commandsIn(top.stdout);
    expect(commands).toEqual(expect.arrayContaining(['serve', 'token', 'source', 'namespace']));

    const helps = await Promise.all(commands.map(async (c) => [c, await runCli([c, '--help'])] as const));
    const nested: string[][] = [];
    for (const [c, res] of helps) {
      expect(res.code, `${c} --help: ${res.stderr}`).toBe(0);
      expect(res.stdout).toContain(`Usage: syncline ${c}`);
      for (const sub of commandsIn(res.stdout)) nested.push([c, sub]);
    }
    expect(nested).toEqual(
      expect.arrayContaining([
        ['token', 'create'],
        ['token', 'list'],
        ['token', 'revoke'],
        ['source', 'add'],
        ['source', 'list'],
        ['namespace', 'set'],
        ['namespace', 'list'],
      ]),
    );
    const subHelps = await Promise.all(nested.map(async (words) => [words, await runCli([...words, '--help'])] as const));
    for (const [words, res] of subHelps) {
      expect(res.code, `${words.join(' ')} --help: ${res.stderr}`).toBe(0);
      expect(res.stdout).toContain(`Usage: syncline ${words.join(' ')}`);
    }
  });
});
