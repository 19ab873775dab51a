/**
 * Child process for bench/webhooks.ts: the "forge" — `git http-backend` over real smart HTTP
 * (test/helpers/git-fixtures.ts serveGitHttp) — in a process of its own, so the forge's request
 * handling and CGI spawns do not run on the event loop of the Syncline being measured (a real
 * forge is another machine; its CPU is still counted, see below).
 *
 * Input: SYNCLINE_BENCH_GIT_ROOT = the directory holding `<name>.git`.
 * IPC: sends `{ url }` once listening; answers `{ stats: true }` with `{ fetches, requests, cpuMs, childCpuMs }`
 * (pack negotiations and HTTP requests served so far, this process's CPU, its reaped children's CPU).
 */
import { serveGitHttp } from '../test/helpers/git-fixtures.js';
import { childCpuMs } from './support.js';


async function main(): Promise<void> {
  const root = process.env.SYNCLINE_BENCH_GIT_ROOT;
  if (!root) throw new Error('SYNCLINE_BENCH_GIT_ROOT is not set');
  const server = await serveGitHttp(root);
  process.on('message', (m: { stats?: boolean }) => {
    if (!m?.stats) return;
    const cpu = process.cpuUsage();
    process.send?.({
      stats: {
        // A fetch = one pack negotiation: a protocol-v2 `fetch` command (git fetch's, or Syncline's
        // own request into index-pack), or a v0 upload-pack POST (always a negotiation). ls-refs
        // requests and ref advertisements (GET info/refs) list refs only.
        fetches: server.requests.filter((r) => r.method === 'POST' && r.url.includes('git-upload-pack') && (r.command === 'fetch' || r.command === undefined)).length,
        requests: server.requests.length,
        cpuMs: (cpu.user + cpu.system) / 1000,
        childCpuMs: childCpuMs(),
      },
    });
  });
  process.on('disconnect', () => {
    void server.close().finally(() => process.exit(0));
  });
  process.send?.({ url: server.url });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
