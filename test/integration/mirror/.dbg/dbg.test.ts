import { it } from 'vitest';
import { startMirrorServer, rawRequest, V2_HEADERS, v2LsRefsRequest, mirrorOf } from '../helpers.js';
import { makeRepo, commitFiles, tempDir } from '../../../helpers/git-fixtures.js';
it('dbg', async () => {
  const repo = await makeRepo({ name: 'app' });
  await commitFiles(repo, { 'a': 'b' });
  const dir = await mirrorOf(repo, await tempDir(), 'app');
  const s = await startMirrorServer();
  s.mirrors.set('app', { dir, access: 'public', source: 'app' });
  const res = await rawRequest(s.origin, '/git/app.git/git-upload-pack', { headers: V2_HEADERS, body: v2LsRefsRequest() });
  console.log(res.status, res.body.toString());
  console.log(JSON.stringify(s.logs.slice(-5)));
  await s.close();
});
