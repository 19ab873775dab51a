import { it } from 'vitest';
import { join } from 'node:path';
import { startMirrorServer, client, fastImport, mirrorOf } from '../helpers.js';
import { makeRepo, tempDir } from '../../../helpers/git-fixtures.js';
it('dbg', async () => {
  const upstream = await makeRepo({ name: 'many-tags' });
  let stream = 'commit refs/heads/main\nmark :1\ncommitter T <t@example.test> 1700000000 +0000\ndata 4\nbase\nM 644 inline f.txt\ndata 2\nx\n\n';
  for (let i = 0; i < 3000; i++) { const m = `tag ${i}\n`; stream += `tag t${i}\nfrom :1\ntagger T <t@example.test> 1700000000 +0000\ndata ${m.length}\n${m}\n`; }
  await fastImport(upstream.bareDir, `${stream}done\n`);
  const dir = await mirrorOf(upstream, await tempDir(), 'many-tags');
  const s = await startMirrorServer();
  s.mirrors.set('many-tags', { dir, access: 'public', source: 'many-tags' });
  const w = await tempDir();
  await client(w, ['init', '--bare', 'x.git']);
  const r = await client(join(w, 'x.git'), ['-c', 'http.postBuffer=65536', 'fetch', s.url('many-tags'), '+refs/tags/*:refs/tags/*'], { env: { GIT_TRACE_CURL: '1', GIT_TRACE_CURL_NO_DATA: '1' } });
  console.log(r.code, r.stderr.split('\n').filter(l => /=> Send header|POST|Transfer|Content-|HTTP\/1/.test(l)).join('\n'));
  console.log(JSON.stringify(s.logs.filter(l => (l.level as number) >= 40), null, 1));
  await s.close();
});
