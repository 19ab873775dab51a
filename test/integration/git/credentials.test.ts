/**
 * The token must never be visible where other local users or later readers could find it:
 * process command lines, files in the mirror, error messages.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getGitHome } from '../../../src/git/env.js';
import { onGitSpawn } from '../../../src/git/runner.js';
import { ensureMirror } from '../../../src/git/mirror-cache.js';
import { lsRemote } from '../../../src/git/refs.js';
import { readEntries, selectTree } from '../../../src/git/tree.js';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  deleteBranch,
  makeRepo,
  serveGitHttp,
  tempDir,
  type FixtureRepo,
  type GitHttpServer,
} from '../../helpers/git-fixtures.js';

const TOKEN = `ghs_planted${randomBytes(12).toString('hex')}`;
const WRONG = `ghs_wrong${randomBytes(12).toString('hex')}`;
/** Every form the secret could leak in. */
const forms = (secret: string): string[] => [
  secret,
  Buffer.from(`x-access-token:${secret}`).toString('base64'),
  Buffer.from(secret).toString('base64'),
];

let repo: FixtureRepo;
let server: GitHttpServer;

beforeAll(async () => {
  repo = await makeRepo({ name: 'private' });
  await commitFiles(repo, { 'config/app.yaml': 'kind: Config\nname: app\n' });
  server = await serveGitHttp(repo.root, { token: TOKEN, username: 'x-access-token' });
});
afterAll(async () => {
  await server.close();
  await cleanupTempDirs();
});

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

async function filesContaining(dir: string, needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await allFiles(dir)) {
    const content = await readFile(file);
    if (needles.some((n) => content.includes(n))) hits.push(file);
  }
  return hits;
}

/** Scans every process command line until `until` settles; returns hits and git processes seen. */
async function watchCmdlines(until: Promise<unknown>, needles: string[]): Promise<{ hits: string[]; gitSeen: number }> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => {});
  const hits: string[] = [];
  let gitSeen = 0;
  while (!done) {
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0));
      if (cmd.length === 0) continue;
      const text = cmd.toString('utf8').split('\0').join(' ');
      if (needles.some((n) => text.includes(n))) hits.push(text);
      if (text.includes(server.url)) gitSeen += 1;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { hits, gitSeen };
}

describe('token auth', () => {
  it('the /proc scan does catch a secret in argv (control)', async () => {
    const { spawn } = await import('node:child_process');
    // `; :` keeps sh from exec'ing sleep (which would replace the command line holding the token);
    // the process outlives the scan, which stops after one full pass over /proc.
    const child = spawn('sh', ['-c', 'sleep 30; :', 'sh', TOKEN], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      const watched = await watchCmdlines(Promise.resolve(), forms(TOKEN));
      expect(watched.hits.length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('authenticates with the token and never exposes it in argv or mirror files', async () => {
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const source = {
      name: 'private',
      url: server.repoUrl('private'),
      auth: { type: 'token', token: TOKEN, provider: 'github' } as const,
    };
    // Slow responses keep git running long enough for the /proc scan to see it: one pass of the
    // scan can take longer than 300 ms on a loaded machine (it missed the clone at load 15).
    server.setFault({ kind: 'delay', ms: 1500 });
    try {
      const clone = ensureMirror(source, { mirrorsDir });
      const watched = await watchCmdlines(clone, forms(TOKEN));
      const { dir, headCommit } = await clone;
      expect(headCommit).toMatch(/^[0-9a-f]{40}$/);
      expect(watched.gitSeen).toBeGreaterThan(0);
      expect(watched.hits).toEqual([]);

      // A moved branch: fetched from Node (ls-refs and fetch requests, the pack into unpack-objects).
      await commitFiles(repo, { 'config/app.yaml': 'kind: Config\nname: app2\n' });
      // unpack-objects lives for milliseconds, too short for the scan to be sure to see it: its argv
      // is checked as spawned.
      const argvs: string[] = [];
      const off = onGitSpawn((i) => argvs.push(i.args.join(' ')));
      const fetch = ensureMirror(source, { mirrorsDir });
      const watchedFetch = await watchCmdlines(fetch, forms(TOKEN));
      await fetch.finally(off);
      expect(argvs.map((a) => a.split(' ')[0])).toEqual(['unpack-objects']);
      expect(argvs.filter((a) => forms(TOKEN).some((f) => a.includes(f)))).toEqual([]);
      expect(watchedFetch.hits).toEqual([]);

      // A deleted branch: git fetch --prune (git-remote-http carries the URL, never the token).
      await createBranch(repo, 'short-lived');
      await ensureMirror(source, { mirrorsDir });
      await deleteBranch(repo, 'short-lived');
      const pruning = ensureMirror(source, { mirrorsDir });
      const watchedPrune = await watchCmdlines(pruning, forms(TOKEN));
      await pruning;
      expect(watchedPrune.gitSeen).toBeGreaterThan(0);
      expect(watchedPrune.hits).toEqual([]);

      const files = await allFiles(dir);
      expect(files).toContain(join(dir, 'config'));
      expect(await filesContaining(mirrorsDir, forms(TOKEN))).toEqual([]);
      expect(await filesContaining(getGitHome(), forms(TOKEN))).toEqual([]);
      const config = await readFile(join(dir, 'config'), 'utf8');
      expect(config).toContain(server.repoUrl('private'));
      expect(config).not.toMatch(/extraheader|authorization/i);

      // The server saw Basic auth with the token.
      const authed = server.requests.filter((r) => r.authorization?.startsWith('Basic '));
      expect(authed.length).toBeGreaterThan(0);
      await expect(selectTree(dir, headCommit ?? '', 'config').then((e) => readEntries(dir, e))).resolves.toHaveLength(1);
    } finally {
      server.setFault(null);
    }
  });

  it('fails without credentials with auth_failed', async () => {
    const mirrorsDir = await tempDir('syncline-mirrors-');
    await expect(ensureMirror({ name: 'private', url: server.repoUrl('private') }, { mirrorsDir })).rejects.toMatchObject({
      code: 'auth_failed',
      retryable: false,
    });
  });

  it('keeps a wrong token out of error messages and details', async () => {
    const mirrorsDir = await tempDir('syncline-mirrors-');
    const auth = { type: 'token', token: WRONG } as const;
    const errors = [
      await ensureMirror({ name: 'private', url: server.repoUrl('private'), auth }, { mirrorsDir }).catch((e) => e),
      await lsRemote(server.repoUrl('private'), auth, { sourceName: 'private' }).catch((e) => e),
    ];
    for (const err of errors) {
      expect(err).toMatchObject({ code: 'auth_failed' });
      const text = `${err.message}\n${err.stack}\n${JSON.stringify(err.details)}`;
      for (const form of [...forms(WRONG), ...forms(TOKEN)]) expect(text).not.toContain(form);
    }
    expect(await filesContaining(mirrorsDir, forms(WRONG))).toEqual([]);
  });

  it('supports basic auth', async () => {
    const basic = await serveGitHttp(repo.root, { token: 'basic-password-1', username: 'deploy' });
    try {
      const refs = await lsRemote(basic.repoUrl('private'), { type: 'basic', username: 'deploy', password: 'basic-password-1' });
      expect(refs.defaultBranch).toBe('main');
      await expect(
        lsRemote(basic.repoUrl('private'), { type: 'basic', username: 'other', password: 'basic-password-1' }),
      ).rejects.toMatchObject({ code: 'auth_failed' });
    } finally {
      await basic.close();
    }
  });

  it('uses oauth2 as the username for GitLab tokens', async () => {
    const gitlab = await serveGitHttp(repo.root, { token: 'glpat-abcdef123456', username: 'oauth2' });
    try {
      const refs = await lsRemote(gitlab.repoUrl('private'), { type: 'token', token: 'glpat-abcdef123456', provider: 'gitlab' });
      expect(refs.defaultBranch).toBe('main');
    } finally {
      await gitlab.close();
    }
  });
});
