import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../../src/server/logger.js';
import { clearRegisteredSecrets, redact, redactDeep, registerBasicAuthSecret, registerSecret } from '../../../src/security/redact.js';

afterEach(() => clearRegisteredSecrets());

describe('redact', () => {
  it('masks registered secrets wherever they appear', () => {
    registerSecret('s3cr3t-token-value');
    expect(redact('fatal: auth failed for s3cr3t-token-value (s3cr3t-token-value)')).toBe('fatal: auth failed for *** (***)');
  });

  it('ignores values too short to mask safely', () => {
    registerSecret('abc');
    registerSecret('');
    registerSecret(null);
    expect(redact('abc abc')).toBe('abc abc');
  });

  it('masks the base64 Basic-auth form a secret takes on its way to git', () => {
    registerBasicAuthSecret('x-access-token', 'ghp_basic-form-secret');
    const header = Buffer.from('x-access-token:ghp_basic-form-secret').toString('base64');
    expect(redact(`sent ${header}`)).toBe('sent ***');
  });

  it('masks credentials in URLs and Authorization headers even when unregistered', () => {
    expect(redact("unable to access 'https://bob:pw123@github.com/a.git'")).toBe("unable to access 'https://***@github.com/a.git'");
    expect(redact('ssh://deploy@host/x')).toBe('ssh://***@host/x');
    expect(redact('Authorization: Bearer syl_abcdef')).toBe('Authorization: Bearer ***');
    expect(redact('authorization: basic Ym9iOnB3')).toBe('authorization: basic ***');
  });

  it("leaves a placeholder alone: the 401 message 'Authorization: Bearer <token>' is not mangled", () => {
    expect(redact('Missing bearer token (Authorization: Bearer <token>)')).toBe('Missing bearer token (Authorization: Bearer <token>)');
    expect(redact('Authorization: Bearer syl_realvalue123')).toBe('Authorization: Bearer ***');
  });

  it('redactDeep walks plain objects and arrays, leaving other values alone', () => {
    registerSecret('deep-secret-value');
    const date = new Date(0);
    const out = redactDeep({ a: ['x deep-secret-value'], b: { c: 'deep-secret-value', n: 1, ok: true, nil: null }, date });
    expect(out).toEqual({ a: ['x ***'], b: { c: '***', n: 1, ok: true, nil: null }, date });
    expect(out.date).toBe(date);
  });
});

describe('redactDeep copies on write', () => {
  it('returns the same value when nothing needs redacting, and never changes its input', () => {
    registerSecret('cow-secret-value');
    const clean = { a: ['x', { b: 'y' }], n: 1 };
    expect(redactDeep(clean)).toBe(clean);
    const dirty = { keep: { b: 'y' }, list: ['ok', 'has cow-secret-value'] };
    const out = redactDeep(dirty);
    expect(out).toEqual({ keep: { b: 'y' }, list: ['ok', 'has ***'] });
    expect(out.keep).toBe(dirty.keep);
    expect(dirty.list[1]).toBe('has cow-secret-value');
  });
});

describe('the logger', () => {
  it('redacts registered secrets from messages and objects, and masks authorization headers', () => {
    registerSecret('logged-secret-value');
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = pino(loggerOptions('info'), stream);
    log.info('message with logged-secret-value');
    log.info({ detail: { nested: 'logged-secret-value' } }, 'object');
    log.error({ err: new Error('failed: logged-secret-value') }, 'error');
    log.info({ req: { headers: { authorization: 'Bearer syl_header_value' } } }, 'request');
    const text = lines.join('');
    expect(lines).toHaveLength(4);
    expect(text).not.toContain('logged-secret-value');
    expect(text).not.toContain('syl_header_value');
  });
});
