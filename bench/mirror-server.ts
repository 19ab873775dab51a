/**
 * Child process for bench/mirror.ts: Syncline's mirror plugin alone in a Fastify server, so its
 * peak RSS can be read from /proc/<pid>/status without the benchmark driver's own memory.
 *
 * Input: SYNCLINE_BENCH_MIRRORS = JSON `{ "<slug>": "<bare repo dir>" }`; optional
 * SYNCLINE_BENCH_MAX_CONCURRENT overrides the plugin's default concurrency limit;
 * SYNCLINE_BENCH_PACK_CACHE = a directory turns the upload-pack cache on (the server's defaults:
 * 1 GiB, 300 s).
 * Output: an IPC message `{ port }` once listening. Messages in: `{ cmd: 'clear-cache' }` (empties
 * the cache, so the next clone is a first request) and `{ cmd: 'cache-stats' }`; each is answered
 * with `{ stats }` (the cache's counters, or null without a cache).
 */
import Fastify from 'fastify';
import { mirrorGitRoutes } from '../src/mirror/git-http.js';
import { UploadPackCache } from '../src/mirror/pack-cache.js';

async function main(): Promise<void> {
  const mirrors = JSON.parse(process.env.SYNCLINE_BENCH_MIRRORS ?? '{}') as Record<string, string>;
  const maxConcurrent = Number(process.env.SYNCLINE_BENCH_MAX_CONCURRENT) || undefined;
  const cacheDir = process.env.SYNCLINE_BENCH_PACK_CACHE;
  const packCache = cacheDir ? new UploadPackCache({ dir: cacheDir, maxBytes: 1024 * 1024 * 1024, ttlMs: 300_000 }) : undefined;
  const app = Fastify({ logger: false });
  await app.register(mirrorGitRoutes, {
    prefix: '/git',
    resolve: async (slug) => {
      const dir = mirrors[slug];
      return dir ? { dir, access: 'public', source: slug } : null;
    },
    authorizeBasic: async () => false,
    ...(maxConcurrent ? { maxConcurrent } : {}),
    // The bench's concurrent clients all come from 127.0.0.1 but stand for as many machines: the
    // per-address limit (mirror_max_per_client, default 4) would answer the fifth one 503.
    maxPerClient: maxConcurrent ?? 256,
    packCache,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ port });
  process.on('message', (m: { cmd?: string }) => {
    void (async () => {
      if (m.cmd === 'clear-cache') await packCache?.clear();
      process.send?.({ stats: packCache ? { ...packCache.stats, ...packCache.size } : null });
    })();
  });
  process.on('disconnect', () => {
    void app.close().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
