/**
 * upsertResources (an apply's writes: the multi-row statement's text compiled once per size,
 * its values as parameters, the next chunk made while the previous one runs) leaves exactly the
 * rows `upsertResource` leaves one by one: inserts and updates, over a chunk boundary (401 rows),
 * with nulls, unicode and JSON that needs escaping — on the SQLite writer thread's transaction
 * (writeTransaction), SQLite's main connection and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listResources, upsertResource, upsertResources, type ResourceWrite } from '../../../src/store/resources.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { createSource, putNamespace } from '../api/support.js';

const write = (i: number, rev: number): ResourceWrite => ({
  kind: i % 3 === 0 ? 'Metric' : 'Workload',
  name: `svc-${i}${i % 50 === 0 ? '-ä\u2028' : ''}`,
  spec: { port: i + rev, text: i % 7 === 0 ? 'a"b\\c\n' : `r${rev}`, list: [i, null, { x: true }] },
  metadata: i % 2 === 0 ? { labels: { team: `t${i % 5}` } } : {},
  hash: `h-${i}-${rev}`,
  managed_fields: ['/spec/port', '/spec/text'],
  file: i % 11 === 0 ? null : `svc-${i}.yaml`,
  commit: i % 13 === 0 ? null : `c${rev}`,
});

const strip = (rows: Array<{ updated_at: string }>) => rows.map(({ updated_at: _u, ...r }) => r);

for (const dialect of DIALECTS) {
  describe(`${dialect}: upsertResources`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: ['git.example.com'] } });
      await createSource(t, { name: 'up', url: 'https://git.example.com/acme/up.git' });
      for (const ns of ['many.prod', 'one.prod']) await putNamespace(t, ns, { source: 'up' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('writes the rows upsertResource writes one by one (inserts, then updates of some)', async () => {
      const first = Array.from({ length: 401 }, (_, i) => write(i, 1));
      const second = first.filter((_, i) => i % 2 === 0).map((w, j) => ({ ...write(j * 2, 2), kind: w.kind, name: w.name }));
      let turns = 0;
      await t.ctx.db.writeTransaction(async (tx) => {
        await upsertResources(tx, 'many.prod', first, async () => void (turns += 1));
      });
      expect(turns).toBe(1); // between the 400-row and the 1-row statement
      await upsertResources(t.ctx.db.db, 'many.prod', second);
      for (const w of first) await upsertResource(t.ctx.db.db, 'one.prod', w, false);
      const existing = new Set(first.map((w) => `${w.kind}/${w.name}`));
      for (const w of second) await upsertResource(t.ctx.db.db, 'one.prod', w, existing.has(`${w.kind}/${w.name}`));
      const many = await listResources(t.ctx.db.db, 'many.prod');
      const one = await listResources(t.ctx.db.db, 'one.prod');
      expect(many).toHaveLength(401);
      expect(strip(many).map((r) => ({ ...r, namespace: 'x' }))).toEqual(strip(one).map((r) => ({ ...r, namespace: 'x' })));
    });

    it('rolls back with its transaction when a later statement fails', async () => {
      const rows = Array.from({ length: 5 }, (_, i) => write(1000 + i, 1));
      await expect(
        t.ctx.db.writeTransaction(async (tx) => {
          await upsertResources(tx, 'many.prod', rows);
          await upsertResources(tx, 'no-such.namespace', rows); // foreign key: the namespace must exist
        }),
      ).rejects.toThrow();
      expect((await listResources(t.ctx.db.db, 'many.prod')).some((r) => r.name === 'svc-1000')).toBe(false);
    });
  });
}
