/**
 * `syncline mirror bake --sources FILE --out DIR`, run the way a user runs it
 * (`node bin/syncline.js`, async spawn: the fixture git servers live in this process):
 *  - success: exit 0, `<DIR>/<name>.git` complete (syncline-complete marker) and cloneable with
 *    `git clone file://`; a token read through `token_env` is never written into DIR nor printed;
 *  - one failing source: non-zero exit, the others still baked, nothing half-made left;
 *  - a bad sources file: a clear error, non-zero, nothing written.
 * No database: the bake command works on files only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupTempDirs,
  commitFiles,
  makeRepo,
  serveGitHttp,
  tempDir,
  upstreamCommit,
  type FixtureRepo,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { clientOk } from './helpers.js';
import { secretForms } from './server-support.js';

const TOKEN = `bake-upstream-token-${randomBytes(12).toString('hex')}`;

/** Every file under `dir` (recursively), as bytes. */
async function allFiles(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else if (e.isFile()) out.push({ path: p, bytes: await readFile(p) });
  }
  return out;
}

describe('syncline mirror bake', () => {
  let privateServer: GitHttpServer;
  let publicServer: GitHttpServer;
  let shop: FixtureRepo;
  let infra: FixtureRepo;
  let work: string;

  beforeAll(async () => {
    work = await tempDir('syncline-bake-');
    // shop is behind a token; infra is public.
    const privateRoot = await tempDir('syncline-upstream-private-');
    shop = await makeRepo({ root: privateRoot, name: 'shop' });
    await commitFiles(shop, { 'prod/app.yaml': 'replicas: 2\n' }, 'shop');
    privateServer = await serveGitHttp(privateRoot, { token: TOKEN });
    const publicRoot = await tempDir('syncline-upstream-public-');
    infra = await makeRepo({ root: publicRoot, name: 'infra' });
    await commitFiles(infra, { 'main.tf': '# infra\n' }, 'infra');
    publicServer = await serveGitHttp(publicRoot);
  });

  afterAll(async () => {
    await privateServer?.close();
    await publicServer?.close();
    await cleanupTempDirs();
  });

  async function sourcesFile(name: string, text: string): Promise<string> {
    const file = join(work, name);
    await writeFile(file, text);
    return file;
  }

  /** The upstreams listen on 127.0.0.1: allow-listed, as a server would need them to be. */
  const bakeCli = (file: string, out: string, env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(['mirror', 'bake', '--sources', file, '--out', out], { SYNCLINE_ALLOWED_HOSTS: '127.0.0.1', ...env });

  /** The output contains neither the token nor its Basic-header form, in any file or on the terminal. */
  async function expectNoToken(out: string, res: CliResult): Promise<void> {
    for (const form of secretForms(TOKEN)) {
      expect(res.stdout.includes(form) || res.stderr.includes(form), 'bake printed the token').toBe(false);
      for (const f of await allFiles(out)) expect(f.bytes.includes(form), `${f.path} contains the token`).toBe(false);
    }
  }

  async function expectBaked(out: string, name: string, repo: FixtureRepo): Promise<void> {
    const dir = join(out, `${name}.git`);
    expect(statSync(join(dir, 'syncline-complete')).isFile()).toBe(true);
    const dest = join(work, `clone-${name}-${randomBytes(4).toString('hex')}`);
    await clientOk(work, ['clone', `file://${dir}`, dest]);
    expect(await clientOk(dest, ['rev-parse', 'HEAD'])).toBe(await upstreamCommit(repo));
  }

  const leftovers = async (out: string) => (await readdir(out)).filter((e) => e.startsWith('.tmp-'));

  it('bakes every source: exit 0, complete and cloneable with file://, the token never written nor printed', async () => {
    const out = join(work, 'out-ok');
    const file = await sourcesFile(
      'ok.yaml',
      [
        'sources:',
        '  - name: shop',
        `    url: ${privateServer.repoUrl('shop')}`,
        '    token_env: SHOP_TOKEN',
        '  - name: infra',
        `    url: ${publicServer.repoUrl('infra')}`,
        '',
      ].join('\n'),
    );
    const res = await bakeCli(file, out, { SHOP_TOKEN: TOKEN });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/2\/2 mirrors baked/);
    expect(res.stderr).toMatch(/shop: ok/);
    expect(res.stderr).toMatch(/infra: ok/);
    expect((await readdir(out)).sort()).toEqual(['infra.git', 'shop.git']);
    await expectBaked(out, 'shop', shop);
    await expectBaked(out, 'infra', infra);
    // The token really was needed (and sent): the private upstream saw authorised requests.
    expect(privateServer.requests.some((r) => r.authorization !== undefined && r.status === 200)).toBe(true);
    await expectNoToken(out, res);

    // Baking again into the same dir refreshes in place.
    const next = await commitFiles(infra, { 'main.tf': '# infra v2\n' }, 'infra v2');
    const again = await bakeCli(file, out, { SHOP_TOKEN: TOKEN });
    expect(again.code, again.stderr).toBe(0);
    expect(await clientOk(join(out, 'infra.git'), ['rev-parse', 'HEAD'])).toBe(next);
    await expectNoToken(out, again);
  });

  it('one source failing: non-zero exit naming it, the others still baked, nothing half-made left, no token anywhere', async () => {
    const out = join(work, 'out-partial');
    const file = await sourcesFile(
      'partial.yaml',
      [
        // A plain list works too.
        '- name: shop',
        `  url: ${privateServer.repoUrl('shop')}`,
        '  token_env: SHOP_TOKEN',
        '- name: missing',
        `  url: ${publicServer.repoUrl('does-not-exist')}`,
        '- name: infra',
        `  url: ${publicServer.repoUrl('infra')}`,
        '- name: wrong-token',
        `  url: ${privateServer.repoUrl('shop')}`,
        '  token_env: WRONG_TOKEN',
        '- name: unset-token',
        `  url: ${privateServer.repoUrl('shop')}`,
        '  token_env: NOT_SET_ANYWHERE',
        '',
      ].join('\n'),
    );
    const res = await bakeCli(file, out, { SHOP_TOKEN: TOKEN, WRONG_TOKEN: `${TOKEN}-wrong` });
    expect(res.code).not.toBe(0);
    expect(res.code).not.toBeNull();
    expect(res.stdout).toMatch(/2\/5 mirrors baked/);
    expect(res.stderr).toMatch(/missing: .*(not found|404)/i);
    expect(res.stderr).toMatch(/wrong-token: .*(auth|401)/i);
    expect(res.stderr).toMatch(/unset-token: .*NOT_SET_ANYWHERE/);
    expect(res.stderr).toMatch(/3 source\(s\) failed to bake/);
    expect((await readdir(out)).sort()).toEqual(['infra.git', 'shop.git']);
    await expectBaked(out, 'shop', shop);
    await expectBaked(out, 'infra', infra);
    expect(await leftovers(out)).toEqual([]);
    await expectNoToken(out, res);
    expect(res.stderr.includes(`${TOKEN}-wrong`)).toBe(false);
  });

  it('a bad sources file: a clear error, non-zero, nothing written', { timeout: 120_000 }, async () => {
    const url = publicServer.repoUrl('infra');
    const cases: Array<[string, string | null, RegExp]> = [
      ['absent.yaml', null, /Cannot read .*absent\.yaml/],
      ['syntax.yaml', 'sources: [name: shop\n  url: :\n', /Cannot read .*syntax\.yaml/],
      ['bad-name.yaml', `sources:\n  - name: Shop!\n    url: ${url}\n`, /sources\.0\.name: must match/],
      ['no-url.yaml', 'sources:\n  - name: shop\n', /sources\.0\.url: .*expected string/],
      ['list-no-url.yaml', `- name: infra\n  url: ${url}\n- name: shop\n`, /: 1\.url: .*expected string/],
      // The token itself does not belong in the file: only the name of a variable holding it.
      ['literal-token.yaml', `sources:\n  - name: shop\n    url: ${url}\n    token: ${TOKEN}\n`, /sources\.0: Unrecognized key: "token"/],
      ['empty.yaml', 'sources: []\n', /lists no sources/],
      ['twice.yaml', `- name: shop\n  url: ${url}\n- name: shop\n  url: ${url}\n`, /'shop' is listed twice/],
      ['scalar.yaml', 'just a string\n', /\(root\)/],
    ];
    for (const [name, text, message] of cases) {
      const file = text === null ? join(work, name) : await sourcesFile(name, text);
      const out = join(work, `out-${name}`);
      const res = await bakeCli(file, out);
      expect(res.code, `${name}: ${res.stderr}`).not.toBe(0);
      expect(res.code).not.toBeNull();
      expect(res.stderr, name).toMatch(/^error: /m);
      expect(res.stderr, name).toMatch(message);
      expect(res.stderr, name).not.toMatch(/\n\s+at /); // a message, not a stack trace
      expect(res.stderr.includes(TOKEN), `${name} echoed the token`).toBe(false);
      expect(existsSync(out), `${name} created the output dir`).toBe(false);
    }
  });

  it('--sources and --out are required', async () => {
    const res = await runCli(['mirror', 'bake', '--out', join(work, 'never')], {});
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/--sources/);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it("applies the server's URL guard and file-source rule", async () => {
    const url = publicServer.repoUrl('infra');
    const file = await sourcesFile('guarded.yaml', `- name: infra\n  url: ${url}\n- name: local\n  url: file://${infra.bareDir}\n`);
    const out = join(work, 'out-guarded');
    // Without the allow-list 127.0.0.1 is loopback: refused, as the server refuses it.
    const refused = await runCli(['mirror', 'bake', '--sources', file, '--out', out], {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/infra: .*loopback/);
    expect(refused.stderr).toMatch(/local: .*file:\/\/ sources are disabled/);
    expect(existsSync(join(out, 'infra.git'))).toBe(false);
    // With the server's settings both are allowed.
    const allowed = await bakeCli(file, out, { SYNCLINE_ALLOW_FILE_SOURCES: 'true' });
    expect(allowed.code, allowed.stderr).toBe(0);
    await expectBaked(out, 'infra', infra);
    await expectBaked(out, 'local', infra);
  });
});
