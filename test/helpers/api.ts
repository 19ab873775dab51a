/**
 * The HTTP API as tests call it (through `app.inject`), one implementation for every suite:
 * a call as the root admin (or a token), the contract's error shape, and the few objects most
 * tests need first (a source, a namespace).
 */
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { ErrorCode } from '../../src/contracts/error-codes.js';
import type { ErrorBody } from '../../src/contracts/errors.js';
import type { TestApp } from './app.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One API call (`url` under /api/v1) as the root admin, or as `opts.token`. */
export function api(
  t: TestApp,
  method: Method,
  url: string,
  payload?: object,
  opts: { token?: string; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { ...t.auth(opts.token), ...opts.headers },
    ...(payload !== undefined ? { payload } : {}),
  });
}

/** Asserts a 200 and returns the JSON body. */
export function ok(res: LightMyRequestResponse): any {
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Asserts the status and the contract's error shape with `code`; returns `error`. */
export function expectError(res: LightMyRequestResponse, status: number, code: ErrorCode): ErrorBody['error'] & { details: any } {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expect(body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
  return body.error;
}

/** Creates a source as the root admin (201) and returns it: `(t, body)` or `(t, name, url, extra?)`. */
export async function createSource(t: TestApp, body: Record<string, unknown>): Promise<any>;
export async function createSource(t: TestApp, name: string, url: string, extra?: Record<string, unknown>): Promise<any>;
export async function createSource(t: TestApp, bodyOrName: Record<string, unknown> | string, url?: string, extra: Record<string, unknown> = {}): Promise<any> {
  const body = typeof bodyOrName === 'string' ? { name: bodyOrName, url, ...extra } : bodyOrName;
  const res = await api(t, 'POST', '/sources', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** Creates or replaces a namespace as the root admin (200) and returns it. */
export async function putNamespace(t: TestApp, ns: string, body: Record<string, unknown> = {}): Promise<any> {
  return ok(await api(t, 'PUT', `/namespaces/${ns}`, body));
}
