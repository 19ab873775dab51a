/**
 * Helpers for the mirror suites that run through the FULL app (server-*.test.ts; not a test file
 * itself): a real app on a real database, listening on 127.0.0.1 so real git clients can clone
 * `/git/<slug>.git`, plus thin wrappers over the mirror API.
 */
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestApp, TestAppOptions } from '../../helpers/app.js';
import type { TestDialect } from '../../helpers/db.js';
import { api, holdLockElsewhere, makeSyncApp } from '../sync/support.js';

export { holdLockElsewhere };

export const PUBLIC_URL = 'https://syncline.example.test';

export interface ServedApp extends TestApp {
  schema?: string;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Clone URL of a mirror through the app, optionally with HTTP Basic credentials. */
  gitUrl(slug: string, opts?: { user?: string; password?: string }): string;
}

/**
 * A real app (SQLite or a fresh PostgreSQL schema) allowed to fetch from 127.0.0.1, with
 * `public_url` set and the example kinds installed, listening on an ephemeral port.
 */
export async function makeServedApp(
  dialect: TestDialect,
  settings: TestAppOptions['settings'] = {},
  opts: { schema?: string | undefined } = {},
): Promise<ServedApp> {
  const t = await makeSyncApp(dialect, { public_url: PUBLIC_URL, ...settings }, opts);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return Object.assign(t, {
    origin,
    gitUrl(slug: string, o: { user?: string; password?: string } = {}) {
      const cred = o.password !== undefined ? `${encodeURIComponent(o.user ?? 'x')}:${encodeURIComponent(o.password)}@` : '';
      return `http://${cred}127.0.0.1:${port}/git/${slug}.git`;
    },
  });
}

/** `POST /mirrors/sync` as the root admin (or `token`). */
export function syncMirrorsReq(t: TestApp, body?: Record<string, unknown>, token?: string): Promise<LightMyRequestResponse> {
  return api(t, 'POST', '/mirrors/sync', body, { token });
}

/** A `POST /mirrors/sync` that must be accepted; returns the summary. */
export async function syncMirrorsOk(t: TestApp, body?: Record<string, unknown>): Promise<MirrorSummary> {
  const res = await syncMirrorsReq(t, body);
  expect(res.statusCode, res.body).toBe(202);
  return res.json();
}

export interface MirrorSummary {
  repos_processed: number;
  repos_updated: number;
  errors: { slug: string; error: string }[];
  skipped?: string[];
}

export interface MirrorStatus {
  slug: string;
  source: string;
  upstream_url: string;
  public_url: string | null;
  access: 'token' | 'public';
  status: string;
  present: boolean;
  head_commit: string | null;
  last_synced: string | null;
  last_sync_error: string | null;
}

export async function listMirrors(t: TestApp, token?: string): Promise<MirrorStatus[]> {
  const res = await api(t, 'GET', '/mirrors', undefined, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}

export async function getMirror(t: TestApp, slug: string, token?: string): Promise<MirrorStatus> {
  const res = await api(t, 'GET', `/mirrors/${slug}`, undefined, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** The Source API's view of a source (its `mirror` block is what these suites check). */
export async function getSource(t: TestApp, name: string): Promise<any> {
  const res = await api(t, 'GET', `/sources/${name}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Every occurrence-worthy form of a planted secret: as is, and as git's Basic header carries it. */
export function secretForms(secret: string, username = 'x-access-token'): string[] {
  return [secret, Buffer.from(`${username}:${secret}`).toString('base64')];
}

