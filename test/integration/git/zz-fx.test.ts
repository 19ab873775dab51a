import { test, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { makeRepo, commitFiles, createBranch, serveGitHttp, tempDir, cleanupTempDirs } from '/work/main/test/helpers/git-fixtures.js';
import { ensureMirror } from '/work/main/src/git/index.js';
test('fixture protocols', async () => {
  const repo = await makeRepo({ name: 'p' });
  await commitFiles(repo, { 'a': 'x' });
  for (let i = 0; i < 300; i++) await createBranch(repo, `b${i}`); // many wants → gzip in v0 POST
  const srv = await serveGitHttp(repo.root, { token: 'tok-abcdef' });
  const d = await tempDir();
  for (const v of ['0', '1', '2']) {
    const out = execFileSync('git', ['-c', `protocol.version=${v}`, '-c', `http.extraHeader=Authorization: Bearer tok-abcdef`, 'clone', '--mirror', '-q', srv.repoUrl('p'), `${d}/c${v}`], { env: { PATH: process.env.PATH, HOME: d, GIT_CONFIG_NOSYSTEM: '1' } });
    const n = execFileSync('git', ['for-each-ref'], { cwd: `${d}/c${v}` }).toString().split('\n').length;
    console.log(v, n);
  }
  const r = await ensureMirror({ name: 'p', url: srv.repoUrl('p'), auth: { type: 'token', token: 'tok-abcdef' } }, { mirrorsDir: d });
  console.log(r, srv.requests.map(q => [q.method, q.url.slice(0, 40), q.status, q.gitProtocol]).slice(-8));
  await srv.close(); await cleanupTempDirs();
});
