/**
 * A/B of config reads (development aid, not part of `npm run bench`): another checkout's
 * bench/reads-server.ts (e.g. main's starting commit, with node_modules) against this one's, and a
 * bare route, each in a process of its own, all up at once; every round sends a fixed number of
 * requests (autocannon, 50 connections) to bare, old 200, new 200, old 304, new 304, the order of
 * old and new swapped every round, so both sides see the same minutes of a shared machine.
 * Reports, per side, the medians of req/s and of the server's CPU per request (process, every
 * thread), and the paired ratios new ÷ old.
 *
 *   tsx bench/reads-ab.ts <otherCheckout> [rounds] [requests] [--postgres]
 */
import os from 'node:os';
import path from 'node:path';
import { closeAllCatFileWorkers } from '../src/git/cat-file-worker.js';
import { dropSchema, freshSchemaName } from '../test/helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir } from '../test/helpers/git-fixtures.js';
import { cannon, startServerProcess, workload, type CannonFigure, type ServerProcess } from './reads.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const [oldRoot, roundsArg, requestsArg] = args;
if (!oldRoot) throw new Error('usage: tsx bench/reads-ab.ts <otherCheckout> [rounds] [requests] [--postgres]');
const rounds = Number(roundsArg ?? 5);
const requests = Number(requestsArg ?? 30_000);
const dialect = process.argv.includes('--postgres') ? 'postgres' : 'sqlite';


const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const root = await tempDir('syncline-reads-ab-');
const git = await serveGitHttp(root);
const servers: ServerProcess[] = [];
const schemas: string[] = [];
try {
  const repo = await makeRepo({ root, name: 'reads' });
  await commitFiles(repo, { 'cfg/a.yaml': workload('a', 1001), 'cfg/b.yaml': workload('b', 1002), 'cfg/c.yaml': workload('c', 1003) }, 'first');
  const syncline = async (r: string) => {
    const schema = dialect === 'postgres' ? freshSchemaName() : undefined;
    if (schema) schemas.push(schema);
    const s = await startServerProcess(['syncline', dialect, git.repoUrl('reads'), schema ?? '-'], r);
    servers.push(s);
    return s;
  };
  const old = await syncline(path.resolve(oldRoot));
  const neu = await syncline(process.cwd());
  const bare = await startServerProcess(['bare']);
  servers.push(bare);
  await bare.send({ body: neu.ready.body }, 'bodySet');
  const auth = (s: ServerProcess) => ({ authorization: `Bearer ${s.ready.viewer!}` });
  type Case = { name: string; server: ServerProcess; url: string; headers: Record<string, string> };
  const cases: Record<string, Case> = {
    bare: { name: 'bare', server: bare, url: `${bare.ready.base}/resource`, headers: {} },
    'old 200': { name: 'old 200', server: old, url: old.ready.url!, headers: auth(old) },
    'new 200': { name: 'new 200', server: neu, url: neu.ready.url!, headers: auth(neu) },
    'old 304': { name: 'old 304', server: old, url: old.ready.url!, headers: { ...auth(old), 'if-none-match': old.ready.etag! } },
    'new 304': { name: 'new 304', server: neu, url: neu.ready.url!, headers: { ...auth(neu), 'if-none-match': neu.ready.etag! } },
  };
  for (const c of Object.values(cases)) await cannon(c.server, c.url, c.headers, 3);
  const figs: Record<string, CannonFigure[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const loads: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? ['bare', 'new 200', 'old 200', 'new 304', 'old 304'] : ['bare', 'old 200', 'new 200', 'old 304', 'new 304'];
    for (const k of order) {
      const c = cases[k]!;
      figs[k]!.push(await cannon(c.server, c.url, c.headers, 0, 50, requests));
    }
    loads.push(os.loadavg()[0]!);
    console.log(`round ${r + 1} (load ${os.loadavg()[0]!.toFixed(1)}): ${order.map((k) => `${k} ${figs[k]!.at(-1)!.rps}/s ${figs[k]!.at(-1)!.cpu_us_per_req} µs`).join(', ')}`);
  }
  const paired = (a: string, b: string, f: (x: CannonFigure) => number) => Math.round(med(figs[a]!.map((x, i) => f(x) / f(figs[b]![i]!))) * 100) / 100;
  const summary = Object.fromEntries(
    Object.entries(figs).map(([k, xs]) => [
      k,
      {
        rps: med(xs.map((x) => x.rps)),
        cpu_us_per_req: med(xs.map((x) => x.cpu_us_per_req)),
        p99_ms: med(xs.map((x) => x.p99_ms)),
        rps_vs_bare: k === 'bare' ? 1 : paired(k, 'bare', (x) => x.rps),
        cpu_vs_bare: k === 'bare' ? 1 : paired('bare', k, (x) => x.cpu_us_per_req),
      },
    ]),
  );
  console.log(JSON.stringify({ dialect, rounds, requests, load: [Math.min(...loads), Math.max(...loads)].map((l) => Math.round(l * 10) / 10), summary, new_vs_old_cpu_200: paired('new 200', 'old 200', (x) => x.cpu_us_per_req), new_vs_old_cpu_304: paired('new 304', 'old 304', (x) => x.cpu_us_per_req) }, null, 1));
} finally {
  for (const s of servers) await s.close();
  for (const schema of schemas) await dropSchema(schema);
  closeAllCatFileWorkers();
  await git.close();
  await cleanupTempDirs();
}
