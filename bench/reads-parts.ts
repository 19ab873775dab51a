/**
 * What the per-request pieces of a config read cost on their own (development aid, not part of
 * `npm run bench`): `tsx bench/reads-parts.ts`. Process CPU per call, median of 5 × 200,000 calls
 * in a tight loop (pure CPU: steadier than autocannon figures on a loaded machine).
 *
 * - `pino child`: the child logger Fastify makes for every request (`{ request_id }`, options `{}`).
 * - `access line`: the one info line per request, as server/logger.ts writes it (redaction hook,
 *   the `req` allowlist serializer, Fastify's `res` serializer) into a discarding stream (what the
 *   reads bench uses), then the same line into pino's default kind of destination (sonic-boom on
 *   /dev/null: one write(2) per line, what a server logging to stdout pays on top).
 * - `randomUUID`, `SHA-256`: a request id and the token hash of every authenticated request.
 * - `access line (writeAccessLine)` against `access line (pino info)`: the line as the server now
 *   formats it, and the same bytes through pino's generic path (serializers, hook, JSON.stringify).
 */
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions, writeAccessLine } from '../src/server/logger.js';

const opts = loggerOptions('info');
const serializers = { ...opts.serializers, res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }) };
const discard = pino({ ...opts, serializers }, new Writable({ write: (_c, _e, cb) => cb() }));
const devNull = pino({ ...opts, serializers }, pino.destination({ dest: '/dev/null', sync: true }));
const unhooked = pino({ serializers }, new Writable({ write: (_c, _e, cb) => cb() }));
const discardChildren = Array.from({ length: 64 }, (_, i) => discard.child({ request_id: `00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}` }));
const req = { method: 'GET', url: '/api/v1/namespaces/reads.prod/resources/Workload/a', headers: {}, host: '127.0.0.1:1234', ip: '127.0.0.1', socket: { remotePort: 5555 } };
const res = { statusCode: 200 };
const token = 'syl_abcdefghijklmnopqrstuvwxyz0123456789abcdefghij';

const parts: Record<string, (i: number) => void> = {
  'pino child (per request)': (i) => void discard.child({ request_id: `id-${i}` }, {}),
  'access line, discarding stream': (i) => discard.info({ request_id: `id-${i}`, req, res, responseTime: 1.25 }, 'request completed'),
  'access line without the redaction hook': (i) => unhooked.info({ request_id: `id-${i}`, req, res, responseTime: 1.25 }, 'request completed'),
  'access line, sonic-boom to /dev/null': (i) => devNull.info({ request_id: `id-${i}`, req, res, responseTime: 1.25 }, 'request completed'),
  // What the server writes now (server/logger.ts writeAccessLine): the same bytes, formatted directly.
  'access line (writeAccessLine), child logger': (i) => void writeAccessLine(discardChildren[i % 64]!, req, 200, 1.25),
  'access line (pino info), child logger': (i) => discardChildren[i % 64]!.info({ req, res, responseTime: 1.25 }, 'request completed'),
  'crypto.randomUUID': () => void crypto.randomUUID(),
  'SHA-256 of a token (hex)': () => void crypto.hash('sha256', token, 'hex'),
};

function cpuPerCall(fn: (i: number) => void, n: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

for (const [name, fn] of Object.entries(parts)) {
  cpuPerCall(fn, 50_000);
  const xs = Array.from({ length: 5 }, () => cpuPerCall(fn, 200_000)).sort((a, b) => a - b);
  console.log(`${name.padEnd(42)} ${xs[2]!.toFixed(2)} µs`);
}
