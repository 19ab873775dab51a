/**
 * Webhooks across real server processes: a server killed with SIGKILL right after answering 202
 * still runs the job once restarted; two servers on one PostgreSQL database receiving the same
 * delivery run one sync.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../../helpers/app.js';
import { DIALECTS, dropSchema, freshSchemaName, testPgUrl } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, upstreamCommit, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { BIN, cliEnv } from '../../helpers/cli.js';
import { kindBody, workload } from '../sync/support.js';
import { githubPush, signedHeaders, SECRET } from './support.js';

interface Proc {
  child: ChildProcessWithoutNullStreams;
  base: string;
  exited: Promise<unknown>;
}
const procs: Proc[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

async function serve(env: Record<string, string>): Promise<Proc> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: cliEnv({ SYNCLINE_PORT: '0', SYNCLINE_HOST: '127.0.0.1', SYNCLINE_ADMIN_TOKEN: ADMIN_TOKEN, SYNCLINE_LOG_LEVEL: 'info', SYNCLINE_WEBHOOK_SECRET: SECRET, SYNCLINE_POLL_INTERVAL: '0', SYNCLINE_ALLOWED_HOSTS: '127.0.0.1', ...env }),
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => child.on('exit', r));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      // Fastify's "Server listening at http://127.0.0.1:PORT", then ours once background work runs.
      const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m && out.includes('"msg":"syncline listening"')) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`serve exited: ${err}`)));
  });
  const p = { child, base: `http://127.0.0.1:${port}`, exited };
  procs.push(p);
  return p;
}

async function call(p: Proc, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${p.base}${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * Polls a condition. No fixed sleeps anywhere in this file: every wait is for a condition, and its
 * limit stays under the test's own timeout (SLOW_TEST_MS) so a failure names what it waited for.
 */
async function until<T>(fn: () => Promise<T | null | undefined | false>, limitMs = 120_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${fn.toString().slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function setup(p: Proc, url: string): Promise<void> {
  expect((await call(p, 'PUT', '/api/v1/kinds/Workload', kindBody('Workload'))).status).toBe(200);
  expect((await call(p, 'POST', '/api/v1/sources', { name: 'shop', url, provider: 'github' })).status).toBe(201);
  expect((await call(p, 'PUT', '/api/v1/namespaces/shop.prod', { source: 'shop', branch: 'main', path: 'prod', auto_sync: true })).status).toBe(200);
  expect((await call(p, 'POST', '/api/v1/namespaces/shop.prod/sync-from-git', {})).status).toBe(200);
}

const deliveryTo = (p: Proc, payload: unknown, id: string) => {
  const body = JSON.stringify(payload);
  return call(p, 'POST', '/api/v1/webhooks/github', body, signedHeaders('github', 'push', body, SECRET, id));
};

/**
 * Two or three `syncline serve` processes (each migrating its database, starting its job worker)
 * plus git and PostgreSQL: well within the default 60 s on an idle machine, not on a loaded one
 * (this suite once failed under load by hitting it). The waits are conditions; this is their bound.
 */
const SLOW_TEST_MS = 180_000;

describe('webhooks across processes', () => {
  let repo: FixtureRepo;
  let server: GitHttpServer;
  let url: string;

  beforeAll(async () => {
    const root = await tempDir('syncline-whp-');
    repo = await makeRepo({ root, name: 'shop' });
    await commitFiles(repo, { 'prod/app.yaml': workload('api', 'port: 8009') }, 'v1');
    server = await serveGitHttp(root);
    url = server.repoUrl('shop');
  });
  afterAll(async () => {
    await server?.close();
    await cleanupTempDirs();
  });

  it.runIf(DIALECTS.includes('sqlite'))('SIGKILL right after 202: the restarted server runs the job', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-kill-'));
    try {
      const env = { SYNCLINE_DATA_DIR: dataDir };
      const a = await serve(env);
      await setup(a, url);
      const before = await upstreamCommit(repo);
      const after = await commitFiles(repo, { 'prod/app.yaml': workload('api', 'port: 8010') }, 'v2');
      // The job's fetch hangs, so the job is mid-run when the process dies.
      server.setFault({ kind: 'hang' });
      const res = await deliveryTo(a, githubPush(url, 'refs/heads/main', before, after), 'kill-1');
      expect(res.status).toBe(202);
      await until(async () => server.requests.length > 0 && (await call(a, 'GET', '/api/v1/jobs?state=running')).body.items.length > 0);
      a.child.kill('SIGKILL');
      await a.exited;
      server.setFault(null);

      const b = await serve(env);
      const deployed = await until(async () => {
        const d = (await call(b, 'GET', '/api/v1/namespaces/shop.prod/deployments')).body.items;
        return d[0]?.commit === after ? d : null;
      });
      expect(deployed[0]).toMatchObject({ actor: 'webhook:github', status: 'success' });
      const job = (await call(b, 'GET', '/api/v1/jobs')).body.items.find((j: any) => j.kind === 'source.refresh');
      expect(job).toMatchObject({ state: 'done', attempts: 2 });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, SLOW_TEST_MS);

  it.runIf(DIALECTS.includes('postgres'))('two servers on one PostgreSQL database, the same delivery sent to each: one sync', async () => {
    const schema = freshSchemaName();
    const admin = new pg.Client({ connectionString: testPgUrl() });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    await admin.end();
    const dirs = [fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-pg1-')), fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-pg2-'))];
    try {
      const dbUrl = `${testPgUrl()}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const key = '11'.repeat(32);
      const a = await serve({ SYNCLINE_DATA_DIR: dirs[0]!, SYNCLINE_DATABASE_URL: dbUrl, SYNCLINE_SECRET_KEY: key });
      const b = await serve({ SYNCLINE_DATA_DIR: dirs[1]!, SYNCLINE_DATABASE_URL: dbUrl, SYNCLINE_SECRET_KEY: key });
      await setup(a, url);
      const before = await upstreamCommit(repo);
      const after = await commitFiles(repo, { 'prod/app.yaml': workload('api', 'port: 8012') }, 'v3');
      const payload = githubPush(url, 'refs/heads/main', before, after);
      const [ra, rb] = await Promise.all([deliveryTo(a, payload, 'same-1'), deliveryTo(b, payload, 'same-1')]);
      expect([ra.status, rb.status].sort()).toEqual([200, 202]);
      expect([ra.body, rb.body].find((x) => x.duplicate)).toMatchObject({ duplicate: true });
      const deployed = await until(async () => {
        const d = (await call(b, 'GET', '/api/v1/namespaces/shop.prod/deployments')).body.items;
        return d[0]?.commit === after ? d : null;
      });
      // Let any (wrong) second run show up before counting.
      await until(async () => (await call(a, 'GET', '/api/v1/jobs?state=queued')).body.items.length === 0 && (await call(a, 'GET', '/api/v1/jobs?state=running')).body.items.length === 0);
      const all = (await call(a, 'GET', '/api/v1/namespaces/shop.prod/deployments')).body.items;
      expect(all.filter((d: any) => d.commit === after)).toHaveLength(1);
      expect(deployed[0].actor).toBe('webhook:github');
    } finally {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
      await dropSchema(schema);
    }
  }, SLOW_TEST_MS);
});
