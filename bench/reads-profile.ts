/**
 * Where a config read's CPU goes (development aid, not part of `npm run bench`):
 *
 *   tsx bench/reads-profile.ts [--requests N] [--postgres] [--out DIR]
 *
 * Starts the reads bench's two servers (bench/reads-server.ts, each in its own process), warms
 * them up, then for each of bare / 200 / 304 sends exactly N requests with autocannon (50
 * connections) while the server profiles its main thread (inspector), and writes the profiles
 * (`DIR/{bare,200,304}.cpuprofile`) and the process CPU per request of each window. Profiles of a
 * fixed number of requests compare directly: busy ms ÷ N is the main thread's cost per request.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeAllCatFileWorkers } from '../src/git/cat-file-worker.js';
import { dropSchema, freshSchemaName } from '../test/helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir } from '../test/helpers/git-fixtures.js';
import { cannon, startServerProcess, workload, type ServerProcess } from './reads.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const requests = Number(arg('--requests', '40000'));
const out = path.resolve(arg('--out', 'bench/.work/reads-profile'));
const dialect = process.argv.includes('--postgres') ? 'postgres' : 'sqlite';
fs.mkdirSync(out, { recursive: true });

const root = await tempDir('syncline-reads-profile-');
const git = await serveGitHttp(root);
const repo = await makeRepo({ root, name: 'reads' });
await commitFiles(repo, { 'cfg/a.yaml': workload('a', 1001), 'cfg/b.yaml': workload('b', 1002), 'cfg/c.yaml': workload('c', 1003) }, 'first');
const schema = dialect === 'postgres' ? freshSchemaName() : undefined;
let s: ServerProcess | undefined;
let bare: ServerProcess | undefined;
try {
  s = await startServerProcess(['syncline', dialect, git.repoUrl('reads'), schema ?? '-']);
  bare = await startServerProcess(['bare']);
  await bare.send({ body: s.ready.body }, 'bodySet');
  const viewer = { authorization: `Bearer ${s.ready.viewer!}` };
  const cases: Array<[string, ServerProcess, string, Record<string, string>]> = [
    ['bare', bare, `${bare.ready.base}/resource`, {}],
    ['200', s, s.ready.url!, viewer],
    ['304', s, s.ready.url!, { ...viewer, 'if-none-match': s.ready.etag! }],
  ];
  for (const [, server, url, headers] of cases) await cannon(server, url, headers, 3);
  for (const [name, server, url, headers] of cases) {
    await server.send({ profile: 'start' }, 'profiling');
    const f = await cannon(server, url, headers, 0, 50, requests);
    const file = path.join(out, `${name}.cpuprofile`);
    await server.send({ profile: 'stop', path: file }, 'profiled');
    console.log(`${name}: ${f.rps} req/s, ${f.cpu_us_per_req} µs CPU/req (process), p99 ${f.p99_ms} ms → ${file} (load ${os.loadavg()[0]!.toFixed(1)})`);
  }
} finally {
  await bare?.close();
  await s?.close();
  if (schema) await dropSchema(schema);
  closeAllCatFileWorkers();
  await git.close();
  await cleanupTempDirs();
}
