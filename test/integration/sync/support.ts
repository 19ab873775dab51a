/**
 * Helpers shared by the sync integration suites (not a test file itself): a real app with the
 * example kinds installed, and thin wrappers over the HTTP API so each test reads as the
 * sequence of calls a user makes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { api, ok } from '../../helpers/api.js';
import { makeTestApp, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { testPgUrl, type TestDialect } from '../../helpers/db.js';
import { cleanupTempDirs, serveGitHttp, tempDir, type GitHttpServer } from '../../helpers/git-fixtures.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A `PUT /kinds/{kind}` body from examples/kinds. */
export function kindBody(kind: 'Workload' | 'Metric'): unknown {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/kinds', `${kind}.json`), 'utf8'));
}

/** YAML text from lines (one trailing newline). */
export const y = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** A Workload document. `spec` lines are indented by the caller's two spaces. */
export const workload = (name: string, ...spec: string[]): string => y('kind: Workload', `name: ${name}`, 'spec:', ...spec.map((l) => `  ${l}`));

/** A Metric document. */
export const metric = (name: string, query: string): string => y('kind: Metric', `name: ${name}`, 'spec:', `  name: ${name}`, `  query: ${query}`);

/**
 * A real app (SQLite or a fresh PostgreSQL schema) allowed to fetch from 127.0.0.1, with the
 * example Workload and Metric kinds defined.
 */
export async function makeSyncApp(
  dialect: TestDialect,
  settings: TestAppOptions['settings'] = {},
  /** `schema`: a second replica on another app's PostgreSQL schema. */
  opts: { schema?: string | undefined } = {},
): Promise<TestApp & { schema?: string }> {
  const t = await makeTestApp(dialect, { settings: { allowed_hosts: ['127.0.0.1'], ...settings }, ...(opts.schema ? { schema: opts.schema } : {}) });
  for (const kind of ['Workload', 'Metric'] as const) {
    const res = await t.app.inject({ method: 'PUT', url: `/api/v1/kinds/${kind}`, headers: t.auth(), payload: kindBody(kind) as object });
    expect(res.statusCode, res.body).toBe(200);
  }
  return t;
}

/** What `useSyncSuite` sets up: the app, and a git smart-HTTP server over `root`. */
export interface SyncSuite {
  t: TestApp & { schema?: string };
  server: GitHttpServer;
  /** Where upstream repositories go (`makeRepo({ root, name })`), served by `server`. */
  root: string;
}

/**
 * The set-up most sync suites share, registered as the describe block's beforeAll / afterAll:
 * `makeSyncApp(dialect, settings)` and a git server over a fresh temp dir. The fields are set
 * once beforeAll has run (read them inside tests and hooks).
 */
export function useSyncSuite(dialect: TestDialect, settings: TestAppOptions['settings'] = {}): SyncSuite {
  const suite = {} as SyncSuite;
  beforeAll(async () => {
    suite.t = await makeSyncApp(dialect, settings);
    suite.root = await tempDir('syncline-upstream-');
    suite.server = await serveGitHttp(suite.root);
  });
  afterAll(async () => {
    await suite.server?.close();
    await suite.t?.close();
    await cleanupTempDirs();
  });
  return suite;
}

export { api, createSource, expectError, ok, putNamespace } from '../../helpers/api.js';

export const syncReq = (t: TestApp, ns: string, ref?: string, token?: string) =>
  api(t, 'POST', `/namespaces/${ns}/sync-from-git`, ref === undefined ? {} : { ref }, { token });

export const planReq = (t: TestApp, ns: string, ref?: string) => api(t, 'POST', `/namespaces/${ns}/plan`, ref === undefined ? {} : { ref });

/** A sync that must succeed; returns the deployment. */
export async function sync(t: TestApp, ns: string, ref?: string): Promise<any> {
  return ok(await syncReq(t, ns, ref));
}

export async function drift(t: TestApp, ns: string): Promise<any> {
  return ok(await api(t, 'GET', `/namespaces/${ns}/drift`));
}

export async function getNamespace(t: TestApp, ns: string): Promise<any> {
  return ok(await api(t, 'GET', `/namespaces/${ns}`));
}

export async function resources(t: TestApp, ns: string): Promise<any[]> {
  return ok(await api(t, 'GET', `/namespaces/${ns}/resources`)).items;
}

export async function resource(t: TestApp, ns: string, kind: string, name: string): Promise<any> {
  return ok(await api(t, 'GET', `/namespaces/${ns}/resources/${kind}/${name}`));
}

export async function deployments(t: TestApp, ns: string): Promise<any[]> {
  return ok(await api(t, 'GET', `/namespaces/${ns}/deployments`)).items;
}

/** A token with a known name (the actor recorded on what it does); returns its secret. */
export async function namedToken(t: TestApp, name: string, role: 'viewer' | 'deployer' | 'admin'): Promise<string> {
  const res = await api(t, 'POST', '/tokens', { name, role });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().token;
}

/** Live state of a namespace as comparable data: kind/name → {spec, metadata, hash, commit}. */
export async function liveSnapshot(t: TestApp, ns: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const r of await resources(t, ns)) {
    out[`${r.kind}/${r.name}`] = { spec: r.spec, metadata: r.metadata, hash: r.hash, commit: r.commit, updated_at: r.updated_at };
  }
  return out;
}

/** Resolves when `cond()` holds; polls (no timing assertion: the test timeout is the limit). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Holds the named lock from another process (test/integration/sync/hold-lock.ts, PostgreSQL
 * advisory lock in `schema`) until released: a second replica.
 */
export async function holdLockElsewhere(schema: string, key: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/integration/sync/hold-lock.ts'), testPgUrl(), schema, key], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('locked\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`hold-lock exited (${code}) before locking: ${stderr}`)));
  });
  return {
    async release() {
      child.stdin.end();
      expect(await exited, stderr).toBe(0);
    },
  };
}
