/**
 * A/B of cold bare clones (development aid, not part of `npm run bench`): another checkout's
 * bench/mirror-server.ts (e.g. main's starting commit, with node_modules) against this one's, the
 * clone cache emptied before each clone, alternating with a `file://` clone every round, so both
 * sides see the same minutes of a shared machine. Reports wall time, the server's own CPU (Node:
 * utime + stime of its process) and its git children's (reaped: cutime + cstime), medians.
 *
 *   tsx bench/mirror-ab.ts <otherCheckout> <bare repo dir, with a syncline-complete file> [rounds] [--warm]
 *
 * `--warm`: the cache is not emptied (every clone after the untimed first round is a repeat at the
 * same refs: a clone-cache hit, and in this checkout the advertisement and ls-refs from memory).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
const warm = process.argv.includes('--warm');
const [oldRoot, repo, roundsArg] = process.argv.slice(2).filter((a) => a !== '--warm');
const rounds = Number(roundsArg ?? 5);
const tick = 100; // CLK_TCK
function stat(pid: number) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { self: (Number(f[11]) + Number(f[12])) * (1000 / tick), kids: (Number(f[13]) + Number(f[14])) * (1000 / tick) };
}
async function server(root: string, cacheDir: string) {
  const tsx = path.join(root, 'node_modules/tsx/dist/loader.mjs');
  const child = fork(path.join(root, 'bench/mirror-server.ts'), [], { execArgv: ['--import', tsx], env: { ...process.env, SYNCLINE_BENCH_MIRRORS: JSON.stringify({ large: repo }), SYNCLINE_BENCH_PACK_CACHE: cacheDir, SYNCLINE_BENCH_MAX_CONCURRENT: '8' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)));
  const cmd = (c: string) => new Promise<unknown>((r) => { child.once('message', r); child.send({ cmd: c }); });
  return { child, port, cmd };
}
function clone(url: string, dest: string): Promise<{ ms: number; cpu: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c: ChildProcess = spawn('git', ['clone', '--bare', '--quiet', url, dest], { env: { PATH: process.env.PATH, HOME: os.tmpdir(), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }, stdio: 'ignore' });
    c.on('exit', (code) => (code === 0 ? resolve({ ms: performance.now() - t0, cpu: 0 }) : reject(new Error(`clone ${code}`))));
  });
}
const work = await mkdtemp(path.join(os.tmpdir(), 'ab-mirror-'));
const servers = { old: await server(oldRoot!, path.join(work, 'c-old')), new: await server(process.cwd(), path.join(work, 'c-new')) };
const res: Record<string, Array<{ ms: number; node: number; git: number }>> = { old: [], new: [], file: [] };
let seq = 0;
for (let r = 0; r < rounds + 1; r++) {
  for (const k of (r % 2 ? ['new', 'old', 'file'] : ['old', 'new', 'file']) as Array<'old' | 'new' | 'file'>) {
    const dest = path.join(work, `d${seq++}`);
    if (k === 'file') {
      const t = await clone(`file://${repo}`, dest);
      if (r > 0) res.file!.push({ ms: t.ms, node: 0, git: 0 });
    } else {
      const s = servers[k];
      if (!warm) await s.cmd('clear-cache');
      const a = stat(s.child.pid!);
      const t = await clone(`http://127.0.0.1:${s.port}/git/large.git`, dest);
      await new Promise((r2) => setTimeout(r2, 200));
      const b = stat(s.child.pid!);
      if (r > 0) res[k]!.push({ ms: t.ms, node: b.self - a.self, git: b.kids - a.kids });
    }
    await rm(dest, { recursive: true, force: true });
  }
  if (r > 0) console.log(`round ${r} load ${os.loadavg()[0]!.toFixed(1)}: ` + ['old', 'new', 'file'].map((k) => { const x = res[k]!.at(-1)!; return `${k} ${x.ms.toFixed(0)} ms (node ${x.node} git ${x.git})`; }).join(' | '));
}
const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
for (const k of ['old', 'new', 'file']) console.log(`${k}: wall ${med(res[k]!.map((x) => x.ms)).toFixed(0)} ms, server Node CPU ${med(res[k]!.map((x) => x.node))} ms, server git CPU ${med(res[k]!.map((x) => x.git))} ms`);
const ratio = (k: string) => med(res[k]!.map((x, i) => x.ms / res.file![i]!.ms));
console.log(`paired wall ÷ file://: old ${ratio('old').toFixed(2)}×, new ${ratio('new').toFixed(2)}×`);
for (const s of Object.values(servers)) s.child.disconnect();
await rm(work, { recursive: true, force: true });
process.exit(0);
