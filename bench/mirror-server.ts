/**
 * Child process for bench/mirror.ts: Syncline's mirror plugin alone in a Fastify server, so its
 * peak RSS can be read from /proc/<pid>/status without the benchmark driver's own memory.
 *
 * Input: SYNCLINE_BENCH_MIRRORS = JSON `{ "<slug>": "<bare repo dir>" }`; optional
 * SYNCLINE_BENCH_MAX_CONCURRENT overrides the plugin's default concurrency limit.
 * Output: an IPC message `{ port }` once listening.
 */
import Fastify from 'fastify';
import { mirrorGitRoutes } from '../src/mirror/git-http.js';

async function main(): Promise<void> {
  const mirrors = JSON.parse(process.env.SYNCLINE_BENCH_MIRRORS ?? '{}') as Record<string, string>;
  const maxConcurrent = Number(process.env.SYNCLINE_BENCH_MAX_CONCURRENT) || undefined;
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
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({ port });
  process.on('disconnect', () => {
    void app.close().finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
