/**
 * One server of the reads bench (bench/reads.ts), in a process of its own:
 *
 *   tsx bench/reads-server.ts syncline <sqlite|postgres> <repo-url> <schema|->
 *   tsx bench/reads-server.ts bare
 *
 * `syncline`: a real server as `syncline serve` runs it (startServer: the replica registry, the
 * cache-invalidation LISTEN, the job runner, the outbox relay, the poller's leadership — the
 * background work Syncline needs on that database), info-level request logs with redaction into a
 * discarding stream; a kind, a source, a namespace synced from the repo and a viewer token.
 * `bare`: a plain Fastify route (Fastify's defaults: no logger) returning the JSON it is sent.
 *
 * Each server lives alone in its process, so the CPU it reports is its own (not the bench's, not
 * the other server's), and neither inherits the other's heap or optimised code (in one process,
 * the second database's rounds paid for collecting the first's objects: V8 deoptimised the hot
 * code that referred to them and recompiled it on its helper threads).
 *
 * Talks to the bench over IPC: sends `{ ready: … }` once listening; answers `{ cpu: true }` with
 * its process.cpuUsage() (all threads: main, GC and compiler helpers, libuv pool), and
 * `{ profile: 'start' }` / `{ profile: 'stop', path }` by profiling its main thread in between.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { fileURLToPath } from 'node:url';
import { loadSettings } from '../src/config/load.js';
import { startServer } from '../src/server/start.js';
import { testPgUrl } from '../test/helpers/db.js';

export const READS_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

export interface ReadsServerReady {
  base: string;
  /** Syncline only: a viewer token, the resource's URL and ETag, and its body (for the bare route). */
  viewer?: string;
  url?: string;
  etag?: string;
  body?: unknown;
}

type Message = { cpu: true } | { body: unknown } | { profile: 'start' } | { profile: 'stop'; path: string };

const ROOT_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function reply(msg: unknown): void {
  process.send?.(msg);
}

export async function syncline(dialect: 'sqlite' | 'postgres', repoUrl: string, schema: string | undefined): Promise<{ app: FastifyInstance; ready: ReadsServerReady }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-reads-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const settings = loadSettings({
    env: {},
    file: '/dev/null',
    overrides: {
      data_dir: dataDir,
      admin_token: READS_ADMIN_TOKEN,
      allowed_hosts: ['127.0.0.1'],
      port: 0,
      host: '127.0.0.1',
      database_url: dialect === 'postgres' ? testPgUrl() : `sqlite:${path.join(dataDir, 'syncline.db')}`,
    },
  });
  // The default log level (info: one redacted access-log line per request), written nowhere.
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const app = await startServer(settings, { logStream: sink, ...(schema ? { schema } : {}) });
  const admin = { authorization: `Bearer ${READS_ADMIN_TOKEN}` };
  const kind = JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'examples/kinds/Workload.json'), 'utf8')) as object;
  for (const [method, url, payload] of [
    ['PUT', '/api/v1/kinds/Workload', kind],
    ['POST', '/api/v1/sources', { name: 'reads', url: repoUrl }],
    ['PUT', '/api/v1/namespaces/reads.prod', { source: 'reads', branch: 'main', path: 'cfg' }],
    ['POST', '/api/v1/namespaces/reads.prod/sync-from-git', {}],
  ] as const) {
    const r = await app.inject({ method, url, headers: admin, payload });
    if (r.statusCode >= 300) throw new Error(`${method} ${url} → ${r.statusCode}: ${r.body.slice(0, 300)}`);
  }
  const t = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: admin, payload: { name: 'bench-viewer', role: 'viewer' } });
  if (t.statusCode !== 201) throw new Error(`token: ${t.body}`);
  const viewer = (t.json() as { token: string }).token;
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const url = `${base}/api/v1/namespaces/reads.prod/resources/Workload/a`;
  const first = await fetch(url, { headers: { authorization: `Bearer ${viewer}` } });
  if (first.status !== 200) throw new Error(`GET → ${first.status}`);
  const etag = first.headers.get('etag')!;
  const body = (await first.json()) as unknown;
  const check304 = await fetch(url, { headers: { authorization: `Bearer ${viewer}`, 'if-none-match': etag } });
  if (check304.status !== 304) throw new Error(`conditional GET → ${check304.status}`);
  return { app, ready: { base, viewer, url, etag, body } };
}

async function bare(): Promise<{ app: FastifyInstance; ready: ReadsServerReady }> {
  const app = Fastify();
  let body: unknown = null;
  // The same JSON as Syncline's answer (sent by the bench once Syncline gave it): no auth, no
  // schema, no logging, no background work.
  app.get('/resource', async () => body);
  process.on('message', (m: Message) => {
    if ('body' in m) {
      body = m.body;
      reply({ bodySet: true });
    }
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return { app, ready: { base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [mode, dialect, repoUrl, schemaArg] = process.argv.slice(2);
  let session: Session | undefined;
  process.on('message', (m: Message) => {
    if ('cpu' in m) reply({ cpu: process.cpuUsage() });
    // A CPU profile of this process over a window the bench chooses (bench/reads-profile.ts).
    else if ('profile' in m && m.profile === 'start') {
      session = new Session();
      session.connect();
      session.post('Profiler.enable', () => session!.post('Profiler.start', () => reply({ profiling: true })));
    } else if ('profile' in m && m.profile === 'stop') {
      session?.post('Profiler.stop', (err, res) => {
        if (!err) fs.writeFileSync(m.path, JSON.stringify(res.profile));
        session?.disconnect();
        session = undefined;
        reply({ profiled: !err });
      });
    }
  });
  // The IPC channel must not keep a finished server alive; startServer exits on SIGTERM.
  process.channel?.unref();
  const started = mode === 'bare' ? bare() : syncline(dialect === 'postgres' ? 'postgres' : 'sqlite', repoUrl!, schemaArg && schemaArg !== '-' ? schemaArg : undefined);
  started.then(
    ({ ready }) => reply({ ready }),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
