/** The shared git fixtures other suites rely on: protocol versions, auth, faults. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runGit } from '../../../src/git/runner.js';
import {
  cleanupTempDirs,
  commitFiles,
  createTag,
  forcePush,
  makeRepo,
  serveGitHttp,
  tempDir,
  upstreamCommit,
} from '../../helpers/git-fixtures.js';

const run = promisify(execFile);
afterAll(cleanupTempDirs);

async function plainGit(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' },
  });
  return stdout;
}

describe('serveGitHttp', () => {
  it.each(['0', '1', '2'])('serves clones over protocol v%s, including gzip-encoded requests', async (version) => {
    const repo = await makeRepo({ name: 'proto' });
    const head = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    await createTag(repo, 'v1', { message: 'annotated' });
    // Enough refs that a v0 client's want list is gzip-compressed.
    const updates = Array.from({ length: 120 }, (_, i) => `create refs/heads/b${i} ${head}\n`).join('');
    await runGit(['update-ref', '--stdin'], { cwd: repo.bareDir, input: updates });
    const server = await serveGitHttp(repo.root, { token: 'fixture-token-1' });
    try {
      const dest = await tempDir();
      await plainGit(
        ['-c', `protocol.version=${version}`, '-c', 'http.extraHeader=Authorization: Bearer fixture-token-1', 'clone', '--mirror', '-q', server.repoUrl('proto'), 'c'],
        dest,
      );
      const refs = (await plainGit(['for-each-ref', '--format=%(refname)'], `${dest}/c`)).split('\n').filter(Boolean);
      expect(refs).toHaveLength(122);
      expect(server.requests.every((r) => r.status === 200)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('answers 401 with WWW-Authenticate without the token, 404 for unknown repos', async () => {
    const repo = await makeRepo({ name: 'guarded' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const server = await serveGitHttp(repo.root, { token: 'fixture-token-2' });
    try {
      const res = await fetch(`${server.repoUrl('guarded')}/info/refs?service=git-upload-pack`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
      const auth = `Basic ${Buffer.from('anyone:fixture-token-2').toString('base64')}`;
      const ok = await fetch(`${server.repoUrl('guarded')}/info/refs?service=git-upload-pack`, { headers: { authorization: auth } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('application/x-git-upload-pack-advertisement');
      const missing = await fetch(`${server.repoUrl('nope')}/info/refs?service=git-upload-pack`, { headers: { authorization: auth } });
      expect(missing.status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('hangs on demand and close() still returns', async () => {
    const repo = await makeRepo({ name: 'hang' });
    await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    const server = await serveGitHttp(repo.root);
    server.setFault({ kind: 'hang' });
    const pending = fetch(`${server.repoUrl('hang')}/info/refs?service=git-upload-pack`).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await server.close();
    expect(await pending).toBeInstanceOf(Error);
  });

  it('forcePush-style rewrites are visible upstream', async () => {
    const repo = await makeRepo({ name: 'rw' });
    const first = await commitFiles(repo, { 'a.yaml': 'a: 1\n' });
    await commitFiles(repo, { 'a.yaml': 'a: 2\n' });
    await forcePush(repo, 'main', first);
    expect(await upstreamCommit(repo, 'refs/heads/main')).toBe(first);
  });
});
