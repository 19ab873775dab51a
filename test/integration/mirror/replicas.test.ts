/**
 * Mirror copies per replica: two apps (replicas) on one PostgreSQL schema, each with its own
 * data dir (its own disk). The database says which mirrors exist; each replica keeps ITS OWN copy
 * fresh (a copy synced by one replica never makes the other skip its own), creates and removes
 * copies to match the database at once on a NOTIFY (the ticks here are 10 minutes: only the
 * NOTIFY can explain a change) or, when a NOTIFY was missed, at its next round; `GET /mirrors`
 * reports every replica's copy; every copy that moves puts one `syncline.mirror.updated` event
 * (naming its replica) in the outbox.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaRegistry } from '../../../src/cluster/registry.js';
import { reconcileCopies } from '../../../src/mirror/copies.js';
import { startMirrorScheduler } from '../../../src/mirror/scheduler.js';
import { deleteSource } from '../../../src/store/sources.js';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir, upstreamCommit, type FixtureRepo, type GitHttpServer } from '../../helpers/git-fixtures.js';
import { api, createSource, until } from '../sync/support.js';
import { clientOk } from './helpers.js';
import { getMirror, makeServedApp, syncMirrorsOk, type ServedApp } from './server-support.js';

const DEADLINE_MS = 45_000;

interface Copy {
  replica: string;
  self: boolean;
  status: string;
  present: boolean;
  head_commit: string | null;
  last_synced: string | null;
}

async function copies(t: ServedApp, slug: string): Promise<Copy[]> {
  const res = await api(t, 'GET', `/mirrors/${slug}`);
  if (res.statusCode === 404) return [];
  expect(res.statusCode, res.body).toBe(200);
  return res.json().replicas;
}

async function mirrorEvents(t: ServedApp, source: string): Promise<{ replica: string; head_commit: string | null; previous_head_commit: string | null }[]> {
  const rows = await t.ctx.db.db.selectFrom('outbox').select(['event']).where('type', '=', 'syncline.mirror.updated').orderBy('seq').execute();
  return rows.map((r) => JSON.parse(r.event).data).filter((d) => d.source === source);
}

describe.runIf(DIALECTS.includes('postgres'))('mirror copies per replica (two apps on one PostgreSQL schema)', () => {
  let a: ServedApp;
  let b: ServedApp;
  let server: GitHttpServer;
  let root: string;
  let work: string;
  let alpha: FixtureRepo;
  const registries: ReplicaRegistry[] = [];

  beforeAll(async () => {
    a = await makeServedApp('postgres', { mirror_interval: 1 });
    b = await makeServedApp('postgres', { mirror_interval: 1 }, { schema: a.schema });
    for (const t of [a, b]) {
      const r = new ReplicaRegistry(t.ctx.db, 'test', () => [], t.ctx.replicaId);
      await r.start();
      registries.push(r);
    }
    root = await tempDir('syncline-upstream-');
    work = await tempDir('syncline-clients-');
    alpha = await makeRepo({ root, name: 'alpha' });
    await commitFiles(alpha, { 'a.txt': 'one\n' }, 'alpha one');
    for (const name of ['beta', 'gamma']) await commitFiles(await makeRepo({ root, name }), { 'a.txt': `${name}\n` }, name);
    server = await serveGitHttp(root);
  });

  afterAll(async () => {
    for (const r of registries) await r.stop();
    await server?.close();
    await b?.close();
    await a?.close();
    await cleanupTempDirs();
  });

  it('two replicas, two ids, two data dirs', () => {
    expect(a.ctx.replicaId).not.toBe(b.ctx.replicaId);
    expect(a.settings.mirror_dir).not.toBe(b.settings.mirror_dir);
  });

  it('each replica keeps its own copy fresh on its own schedule; GET /mirrors reports both; one mirror.updated per copy that moves', { timeout: 120_000 }, async () => {
    const stops = [a, b].map((t) => startMirrorScheduler(t.ctx, t.app.log, { tickMs: 300 }));
    try {
      await createSource(a, 'alpha', server.repoUrl('alpha'), { mirror: { enabled: true, access: 'public' } });
      const first = await upstreamCommit(alpha);
      const both = async (head: string) => {
        const cs = await copies(a, 'alpha');
        return cs.length === 2 && cs.every((c) => c.status === 'ready' && c.present && c.head_commit === head);
      };
      await until(() => both(first), 'both replicas to hold a copy', DEADLINE_MS);

      // Upstream moves on: EACH replica fetches its own copy (before, the second found the first's
      // last_synced fresh, or its lock taken, and skipped).
      const next = await commitFiles(alpha, { 'a.txt': 'two\n' }, 'alpha two');
      await until(() => both(next), 'both copies to move to the new commit', DEADLINE_MS);
      for (const t of [a, b]) {
        expect(await clientOk(join(t.settings.mirror_dir, 'alpha.git'), ['rev-parse', 'HEAD'])).toBe(next);
        const dest = join(work, `alpha-${t.ctx.replicaId}`);
        await clientOk(work, ['clone', t.gitUrl('alpha'), dest]);
        expect(await clientOk(dest, ['rev-parse', 'HEAD'])).toBe(next);
      }

      // Both replicas answer with the same per-replica picture, `self` and the top level their own.
      const fromA = await getMirror(a, 'alpha');
      const fromB = await getMirror(b, 'alpha');
      expect(fromA).toMatchObject({ replica: a.ctx.replicaId, head_commit: next, present: true, status: 'ready' });
      expect(fromB).toMatchObject({ replica: b.ctx.replicaId, head_commit: next, present: true, status: 'ready' });
      const ids = (m: { replicas: Copy[] }) => m.replicas.map((c) => `${c.replica}:${c.self}`).sort();
      expect(ids(fromA as never)).toEqual([`${a.ctx.replicaId}:true`, `${b.ctx.replicaId}:false`].sort());
      expect(ids(fromB as never)).toEqual([`${a.ctx.replicaId}:false`, `${b.ctx.replicaId}:true`].sort());
      // last_synced is each replica's own.
      const byId = new Map((await copies(a, 'alpha')).map((c) => [c.replica, c]));
      expect(byId.get(a.ctx.replicaId)!.last_synced).not.toBeNull();
      expect(byId.get(b.ctx.replicaId)!.last_synced).not.toBeNull();

      // One event per copy per move: the first clone and the new commit, on each replica.
      const events = await mirrorEvents(a, 'alpha');
      for (const replica of [a.ctx.replicaId, b.ctx.replicaId]) {
        const mine = events.filter((e) => e.replica === replica);
        expect(mine.map((e) => e.head_commit)).toEqual([first, next]);
        expect(mine[1]!.previous_head_commit).toBe(first);
      }
    } finally {
      for (const stop of stops) await stop();
    }
  });

  it('a source created on one replica is copied by the other at once (NOTIFY); deleted on the other, the first removes its copy at once', { timeout: 120_000 }, async () => {
    // Ticks of 10 minutes: after the first round, only a NOTIFY makes a scheduler look again.
    const stops = [a, b].map((t) => startMirrorScheduler(t.ctx, t.app.log, { tickMs: 600_000 }));
    try {
      await createSource(a, 'beta', server.repoUrl('beta'), { mirror: { enabled: true, access: 'public' } });
      await until(
        async () => (await copies(a, 'beta')).filter((c) => c.status === 'ready').length === 2,
        'both replicas to copy the new mirror',
        DEADLINE_MS,
      );
      expect(existsSync(join(b.settings.mirror_dir, 'beta.git'))).toBe(true);

      const del = await api(b, 'DELETE', '/sources/beta');
      expect(del.statusCode, del.body).toBe(204);
      expect(existsSync(join(b.settings.mirror_dir, 'beta.git'))).toBe(false);
      await until(() => !existsSync(join(a.settings.mirror_dir, 'beta.git')), "the other replica's copy to be removed", DEADLINE_MS);
      expect((await api(a, 'GET', '/mirrors/beta')).statusCode).toBe(404);
      expect(await a.ctx.db.db.selectFrom('mirror_copies').selectAll().where('source', '=', 'beta').execute()).toEqual([]);
    } finally {
      for (const stop of stops) await stop();
    }
  });

  it('a NOTIFY missed (a replica down): its next round removes a copy whose source was deleted, or deleted and re-created', { timeout: 120_000 }, async () => {
    await createSource(a, 'gamma', server.repoUrl('gamma'), { mirror: { enabled: true, access: 'public' } });
    for (const t of [a, b]) expect(await syncMirrorsOk(t, { slug: 'gamma' })).toMatchObject({ repos_processed: 1, errors: [] });
    const dirB = join(b.settings.mirror_dir, 'gamma.git');
    expect(existsSync(dirB)).toBe(true);

    // Re-created under the same name (another repository): B's copy is of the old one.
    await deleteSource(a.ctx.db.db, 'gamma', 'test');
    await createSource(a, 'gamma', server.repoUrl('alpha'), { mirror: { enabled: true, access: 'public' } });
    expect(await reconcileCopies(b.ctx)).toEqual(['gamma']);
    expect(existsSync(dirB)).toBe(false);
    expect(await syncMirrorsOk(b, { slug: 'gamma' })).toMatchObject({ repos_processed: 1, errors: [] });
    expect(await clientOk(dirB, ['rev-parse', 'HEAD'])).toBe(await upstreamCommit(alpha));
    expect(await reconcileCopies(b.ctx)).toEqual([]);

    // Deleted with no NOTIFY at all (straight in the database).
    await deleteSource(a.ctx.db.db, 'gamma', 'test');
    expect(await reconcileCopies(b.ctx)).toEqual(['gamma']);
    expect(existsSync(dirB)).toBe(false);
  });
});
