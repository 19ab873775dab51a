import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobQueue, backoffMs, type JobQueue } from '../../../src/jobs/index.js';
import { SynclineError } from '../../../src/errors.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';

/** A condition poll: resolves once `fn` returns truthy (no fixed sleeps). */
async function until<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('backoff', () => {
  it('grows exponentially, is capped, and is jittered within [exp/2, exp]', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffMs(30, 1000, 60_000, () => 1)).toBe(60_000);
    const seen = new Set(Array.from({ length: 20 }, () => backoffMs(3, 1000, 60_000)));
    expect(seen.size).toBeGreaterThan(1);
    for (const v of seen) expect(v).toBeGreaterThanOrEqual(2000), expect(v).toBeLessThanOrEqual(4000);
  });
});

describe.each(DIALECTS)('job queue (%s)', (dialect) => {
  let t: TestApp & { schema?: string };
  const queueLogs: string[] = [];
  const queueLog = {
    info: (o: object, m: string) => void queueLogs.push(`${m} ${JSON.stringify(o)}`),
    warn: (o: object, m: string) => void queueLogs.push(`${m} ${JSON.stringify(o)}`),
    error: (o: object, m: string) => void queueLogs.push(`${m} ${JSON.stringify(o)}`),
  };
  const queues: JobQueue[] = [];
  const make = async () => {
    const q = await createJobQueue(t.ctx.db, t.settings.database_url, { backoffBaseMs: 5, maxBackoffMs: 20, leaseMs: 2000, concurrency: 2, log: queueLog });
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    t = await makeTestApp(dialect);
  });
  afterAll(async () => {
    for (const q of queues) await q.stop();
    await t.close();
  });

  it('runs a job once, records it done, and the API lists it', async () => {
    const q = await make();
    const seen: unknown[] = [];
    q.register('test.echo', async (p) => void seen.push(p));
    await q.start();
    const { id } = await q.enqueue('test.echo', { n: 1 }, { namespace: 'shop.prod' });
    await q.waitIdle();
    expect(seen).toEqual([{ n: 1 }]);
    const job = await q.get(id);
    expect(job).toMatchObject({ state: 'done', attempts: 1, last_error: null, namespace: 'shop.prod' });
    await q.stop();
  });

  it('a job queued in this process wakes an idle worker at once, not at its next poll', async () => {
    // The idle poll is an hour: if the job runs, something woke the worker.
    const q = await createJobQueue(t.ctx.db, t.settings.database_url, { concurrency: 2, leaseMs: 2000, pollIntervalMs: 3_600_000, log: queueLog });
    queues.push(q);
    const ran: string[] = [];
    q.register('test.wake', async (p: { n: string }) => void ran.push(p.n));
    await q.start();
    // Let the start's first look for work finish, so the worker is idle waiting for its poll.
    await new Promise((r) => setTimeout(r, 50));
    await q.enqueue('test.wake', { n: 'plain' });
    await until(() => ran.includes('plain'));
    // Queued inside the caller's transaction (as a webhook delivery's jobs are): kick() after the
    // commit wakes it.
    await t.ctx.db.db.transaction().execute(async (tx) => {
      await q.enqueue('test.wake', { n: 'in-tx' }, { tx, key: 'test.wake:tx' });
    });
    q.kick();
    await until(() => ran.includes('in-tx'));
    expect(ran).toEqual(['plain', 'in-tx']);
    await q.stop();
  });

  it.runIf(dialect === 'postgres')('keeps working when graphile-worker is installed for another schema of the database (its database-wide "breaking migration" notice)', async () => {
    const q = await make();
    const seen: unknown[] = [];
    q.register('test.survivor', async (p) => void seen.push(p));
    await q.start();
    // Another install on the same database: a fresh graphile-worker schema (migration 1, "breaking")
    // is announced on the database-wide channel, and every runner in the database stops.
    const other = await makeTestApp('postgres');
    try {
      await other.ctx.jobs.start();
      await other.ctx.jobs.stop();
    } finally {
      await other.close();
    }
    await until(() => t.logs.some((l) => l.includes('job runner stopped on its own')) || queueLogs.some((l) => l.includes('job runner stopped on its own')));
    const { id } = await q.enqueue('test.survivor', { n: 7 });
    await until(async () => (await q.get(id))?.state === 'done');
    expect(seen).toEqual([{ n: 7 }]);
    expect(process.exitCode).not.toBe(57);
    await q.stop();
  });

  it('coalesces duplicates by key while queued', async () => {
    const q = await make();
    let runs = 0;
    q.register('test.key', async () => void runs++);
    const a = await q.enqueue('test.key', {}, { key: 'k1' });
    const b = await q.enqueue('test.key', {}, { key: 'k1' });
    const c = await q.enqueue('test.key', {}, { key: 'k2' });
    expect(b).toMatchObject({ id: a.id, coalesced: true });
    expect(c.id).not.toBe(a.id);
    await q.start();
    await q.waitIdle();
    expect(runs).toBe(2);
    // Once done, the key is free again.
    const d = await q.enqueue('test.key', {}, { key: 'k1' });
    expect(d.coalesced).toBe(false);
    await q.waitIdle();
    expect(runs).toBe(3);
    await q.stop();
  });

  it('retries with back-off, then succeeds', async () => {
    const q = await make();
    let calls = 0;
    q.register('test.flaky', async () => {
      calls++;
      if (calls < 3) throw new Error(`boom ${calls}`);
    });
    await q.start();
    const { id } = await q.enqueue('test.flaky', {});
    const job = await until(async () => {
      const j = await q.get(id);
      return j?.state === 'done' ? j : null;
    });
    expect(job.attempts).toBe(3);
    expect(calls).toBe(3);
    await q.stop();
  });

  it('keeps an exhausted job listed as failed with its error; retry runs it again', async () => {
    const q = await make();
    let fail = true;
    q.register('test.fail', async () => {
      if (fail) throw new Error('upstream said no');
    }, { maxAttempts: 2 });
    await q.start();
    const { id } = await q.enqueue('test.fail', {}, { delivery: 'd-1' });
    const failed = await until(async () => {
      const j = await q.get(id);
      return j?.state === 'failed' ? j : null;
    });
    expect(failed).toMatchObject({ attempts: 2, max_attempts: 2, last_error: 'upstream said no', delivery: 'd-1' });

    // Through the API (the app's own queue reads the same table).
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/jobs?state=failed', headers: t.auth() });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((j: any) => j.id)).toContain(id);
    const one = list.json().items.find((j: any) => j.id === id);
    expect(one).toEqual({
      id, kind: 'test.fail', state: 'failed', attempts: 2, max_attempts: 2, last_error: 'upstream said no',
      run_at: expect.any(String), created_at: expect.any(String), finished_at: expect.any(String), delivery: 'd-1', namespace: null,
    });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/syncline_jobs\{state="failed"\} [1-9]/);

    fail = false;
    const retried = await t.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: t.auth() });
    expect(retried.statusCode, retried.body).toBe(202);
    expect(retried.json()).toMatchObject({ id, state: 'queued', attempts: 0 });
    await until(async () => (await q.get(id))?.state === 'done');
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/jobs/nope/retry', headers: t.auth() })).statusCode).toBe(404);
    const viewer = await t.token('viewer');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/jobs', headers: t.auth(viewer) })).statusCode).toBe(403);
    await q.stop();
  });

  it('fails at once on a non-retryable error', async () => {
    const q = await make();
    let calls = 0;
    q.register('test.permanent', async () => {
      calls++;
      throw new SynclineError('ref_not_found', "Ref 'nope' not found");
    });
    await q.start();
    const { id } = await q.enqueue('test.permanent', {});
    const j = await until(async () => {
      const x = await q.get(id);
      return x?.state === 'failed' ? x : null;
    });
    expect(calls).toBe(1);
    expect(j.last_error).toBe("ref_not_found: Ref 'nope' not found");
    await q.stop();
  });

  it('runs again a job whose worker died mid-run (lease expired)', async () => {
    // A job claimed by a worker that was then killed: state running, stale heartbeat.
    const q = await make();
    let runs = 0;
    q.register('test.orphan', async () => void runs++);
    const { id } = await q.enqueue('test.orphan', {});
    await t.ctx.db.db
      .updateTable('jobs')
      .set({ state: 'running', attempts: 1, locked_by: 'dead-worker', locked_at: new Date(Date.now() - 60_000).toISOString() })
      .where('id', '=', id)
      .execute();
    await q.start();
    await until(async () => (await q.get(id))?.state === 'done');
    expect(runs).toBe(1);
    expect((await q.get(id))!.attempts).toBe(2);
    await q.stop();
  });

  it.runIf(dialect === 'postgres')('shares work between two workers on one database: each job runs once', async () => {
    const a = await make();
    const b = await make();
    const ranBy = new Map<number, string[]>();
    // Worker a's jobs wait (up to 20 s) until b has run one: with a busy, the queue must hand work
    // to b. Without the gate a fast a could take all 30 before b's first poll (not a bug).
    let bRan!: () => void;
    const bHasRun = new Promise<void>((r) => (bRan = r));
    for (const [q, name] of [[a, 'a'], [b, 'b']] as const) {
      q.register<{ n: number }>('test.shared', async ({ n }) => {
        if (name === 'a') await Promise.race([bHasRun, new Promise((r) => setTimeout(r, 20_000))]);
        ranBy.set(n, [...(ranBy.get(n) ?? []), name]);
        if (name === 'b') bRan();
      });
    }
    await Promise.all([a.start(), b.start()]);
    for (let n = 0; n < 30; n++) await a.enqueue('test.shared', { n });
    await until(() => ranBy.size === 30);
    await a.waitIdle();
    expect([...ranBy.values()].every((v) => v.length === 1)).toBe(true);
    const workers = new Set([...ranBy.values()].flat());
    expect(workers.size).toBe(2);
    await Promise.all([a.stop(), b.stop()]);
  });
});
