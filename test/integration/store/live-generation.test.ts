/**
 * namespaces.live_generation (migration 121) moves on every write to the namespace's live
 * resources, whoever makes it: the store's upserts (new rows and changed rows, one or many),
 * deletes, and plain SQL that no Syncline code path knows of. Writes to another namespace leave
 * it alone. A sync reuses its last plan only while it has not moved (src/sync/last-plan.ts).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespace } from '../../../src/store/namespaces.js';
import { deleteResource, upsertResource, upsertResources, type ResourceWrite } from '../../../src/store/resources.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { createSource, putNamespace } from '../../helpers/api.js';

const write = (name: string, port = 1): ResourceWrite => ({ kind: 'Workload', name, spec: { port }, metadata: {}, hash: `h-${name}-${port}`, managed_fields: ['/spec/port'], file: `${name}.yaml`, commit: null });

for (const dialect of DIALECTS) {
  describe(`${dialect}: namespaces.live_generation`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: ['git.example.com'] } });
      await createSource(t, { name: 'gen', url: 'https://git.example.com/acme/gen.git' });
      for (const ns of ['gen.prod', 'other.prod', 'gone.prod']) await putNamespace(t, ns, { source: 'gen' });
    });
    afterAll(async () => {
      await t?.close();
    });

    const generation = async (ns: string): Promise<number> =>
      Number((await t.ctx.db.db.selectFrom('namespaces').select('live_generation').where('name', '=', ns).executeTakeFirstOrThrow()).live_generation);

    /** Runs `fn` and returns whether gen.prod's and other.prod's generations moved. */
    async function moved(fn: () => Promise<unknown>): Promise<{ mine: boolean; other: boolean }> {
      const [mine, other] = [await generation('gen.prod'), await generation('other.prod')];
      await fn();
      return { mine: (await generation('gen.prod')) !== mine, other: (await generation('other.prod')) !== other };
    }

    it('moves on every store write of the namespace, and only its own', async () => {
      const db = t.ctx.db.db;
      // 450 rows: more than one multi-row statement (400 a statement).
      const many = Array.from({ length: 450 }, (_, i) => write(`svc-${i}`));
      expect(await moved(() => upsertResources(db, 'gen.prod', many))).toEqual({ mine: true, other: false });
      expect(await moved(() => upsertResources(db, 'gen.prod', many.map((w) => ({ ...w, spec: { port: 2 } }))))).toEqual({ mine: true, other: false });
      expect(await moved(() => upsertResource(db, 'gen.prod', write('svc-1', 3), true))).toEqual({ mine: true, other: false });
      expect(await moved(() => upsertResource(db, 'gen.prod', write('new-1', 3), false))).toEqual({ mine: true, other: false });
      expect(await moved(() => deleteResource(db, 'gen.prod', 'Workload', 'new-1'))).toEqual({ mine: true, other: false });
      expect(await moved(() => upsertResources(db, 'other.prod', [write('x')]))).toEqual({ mine: false, other: true });
      // Inside a transaction that commits, as an apply writes.
      expect(await moved(() => db.transaction().execute((tx) => upsertResources(tx, 'gen.prod', [write('svc-2', 9)])))).toEqual({ mine: true, other: false });
    });

    it('moves on SQL no Syncline code path runs (an operator, another program)', async () => {
      const db = t.ctx.db.db;
      expect(await moved(() => sql`update resources set spec = ${'{"port":7}'} where namespace = ${'gen.prod'} and name = ${'svc-3'}`.execute(db))).toEqual({ mine: true, other: false });
      expect(await moved(() => sql`delete from resources where namespace = ${'gen.prod'} and name = ${'svc-4'}`.execute(db))).toEqual({ mine: true, other: false });
      expect(
        await moved(() =>
          sql`insert into resources (namespace, kind, name, spec, metadata, hash, managed_fields, updated_at) values (${'gen.prod'}, ${'Workload'}, ${'raw'}, ${'{}'}, ${'{}'}, ${'h'}, ${'[]'}, ${'2026-01-01T00:00:00.000Z'})`.execute(db),
        ),
      ).toEqual({ mine: true, other: false });
    });

    it("a rolled-back write leaves it where it was; deleting another namespace's rows leaves it alone", async () => {
      const db = t.ctx.db.db;
      expect(
        await moved(() =>
          db
            .transaction()
            .execute(async (tx) => {
              await upsertResources(tx, 'gen.prod', [write('svc-5', 11)]);
              throw new Error('roll back');
            })
            .catch(() => undefined),
        ),
      ).toEqual({ mine: false, other: false });
      await upsertResources(db, 'gone.prod', [write('a'), write('b')]);
      expect(await moved(() => deleteNamespace(db, 'gone.prod', 'test'))).toEqual({ mine: false, other: false });
    });
  });
}
