import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, writeAccessLine } from '../../../src/server/logger.js';
import { clearRegisteredSecrets, registerSecret } from '../../../src/security/redact.js';

/** A logger as the server builds it (loggerOptions + Fastify's `res` serializer), capturing lines. */
function capture(extra: pino.LoggerOptions = {}) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const opts = loggerOptions('info');
  const root = pino({ ...opts, serializers: { ...opts.serializers, res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }) }, ...extra }, stream);
  return { root, lines };
}

const withoutTime = (line: string) => line.replace(/,"time":\d+/, ',"time":0');

describe('the access line (writeAccessLine)', () => {
  const requests = [
    { method: 'GET', url: '/api/v1/namespaces/a/resources/K/n', host: '127.0.0.1:8080', ip: '127.0.0.1', socket: { remotePort: 51234 }, headers: {} },
    // Characters JSON must escape, an accept-version header, no socket, no host.
    { method: 'POST', url: '/x?q="a\\b"\n\u0001é', ip: '::1', socket: null, headers: { 'accept-version': '1.x' } },
    { method: 'GET', url: '/y', host: 'h', ip: '10.0.0.1', socket: { remotePort: undefined }, headers: {} },
  ];

  it('writes the same bytes as pino would for info({ req, res, responseTime }, "request completed")', () => {
    for (const req of requests) {
      for (const [status, rt] of [
        [200, 1.2345],
        [304, 0],
        [500, Number.NaN],
      ] as const) {
        const a = capture();
        const b = capture();
        const childA = a.root.child({ request_id: 'id-1' });
        const childB = b.root.child({ request_id: 'id-1' });
        expect(writeAccessLine(childA, req, status, rt)).toBe(true);
        childB.info({ req, res: { statusCode: status }, responseTime: rt }, 'request completed');
        expect(a.lines).toHaveLength(1);
        expect(withoutTime(a.lines[0]!)).toBe(withoutTime(b.lines[0]!));
      }
    }
  });

  it('redacts a registered secret and URL credentials in the URL and the host', () => {
    registerSecret('s3cr3t-value');
    try {
      const { root, lines } = capture();
      writeAccessLine(root.child({ request_id: 'r' }), { method: 'GET', url: '/a?token=s3cr3t-value&u=https://me:pw@x.test/', host: 's3cr3t-value.example', ip: '1.2.3.4', socket: null }, 200, 1);
      expect(lines[0]).not.toContain('s3cr3t-value');
      expect(lines[0]).not.toContain('me:pw');
      expect(JSON.parse(lines[0]!).req.url).toBe('/a?token=***&u=https://***@x.test/');
    } finally {
      clearRegisteredSecrets();
    }
  });

  it('a connection repeating its request reuses the request part of its line only while every field and the secrets are the same', () => {
    const socket = { remotePort: 40000 };
    const base = { method: 'GET', url: '/api/v1/namespaces/a/resources/K/n', host: 'h:1', ip: '10.0.0.2', socket, headers: {} as Record<string, string> };
    const variants = [
      base,
      base,
      { ...base, url: '/api/v1/namespaces/a/resources/K/m' },
      { ...base, method: 'HEAD' },
      { ...base, host: 'other:1' },
      { ...base, ip: '10.0.0.3' },
      { ...base, headers: { 'accept-version': '2' } },
      { ...base, socket: { remotePort: 40001 } },
      base,
    ];
    try {
      for (const [i, req] of [...variants, { ...base, url: '/a?token=later-registered-secret' }, { ...base, url: '/a?token=later-registered-secret' }].entries()) {
        if (i === variants.length + 1) registerSecret('later-registered-secret');
        const a = capture();
        const b = capture();
        writeAccessLine(a.root.child({ request_id: 'm' }), req, 200, 1);
        b.root.child({ request_id: 'm' }).info({ req, res: { statusCode: 200 }, responseTime: 1 }, 'request completed');
        expect(withoutTime(a.lines[0]!), String(i)).toBe(withoutTime(b.lines[0]!));
      }
    } finally {
      clearRegisteredSecrets();
    }
  });

  it('writes nothing when info is off, and defers to pino for loggers it does not format for', () => {
    const quiet = capture({ level: 'warn' });
    expect(writeAccessLine(quiet.root.child({}), requests[0]!, 200, 1)).toBe(true);
    expect(quiet.lines).toEqual([]);
    const mixin = capture({ mixin: () => ({ extra: 1 }) });
    expect(writeAccessLine(mixin.root.child({}), requests[0]!, 200, 1)).toBe(false);
    const prefixed = capture({ msgPrefix: '[x] ' });
    expect(writeAccessLine(prefixed.root, requests[0]!, 200, 1)).toBe(false);
    const nested = capture({ nestedKey: 'payload' });
    expect(writeAccessLine(nested.root, requests[0]!, 200, 1)).toBe(false);
    expect([mixin.lines, prefixed.lines, nested.lines]).toEqual([[], [], []]);
  });
});
