/**
 * listResourcesPaged (a sync's read of live state, in pages that yield) returns exactly what
 * listResources returns, in the same order, whatever the page size: kinds and names that sort
 * around each other, page boundaries inside one kind, other namespaces left out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listResources, listResourcesPaged, upsertResources, type ResourceWrite } from '../../../src/store/resources.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';
import { createSource, putNamespace } from '../api/support.js';

const write = (kind: string, name: string): ResourceWrite => ({ kind, name, spec: { n: name }, metadata: {}, hash: `h-${kind}-${name}`, managed_fields: ['/spec/n'], file: `${name}.yaml`, commit: null });

for (const dialect of DIALECTS) {
  describe(`${dialect}: listResourcesPaged`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp(dialect, { settings: { allowed_hosts: ['git.example.com'] } });
      await createSource(t, { name: 'paged', url: 'https://git.example.com/acme/paged.git' });
      for (const ns of ['paged.prod', 'other.prod']) await putNamespace(t, ns, { source: 'paged' });
      const names = ['a', 'a-1', 'a.b', 'aa', 'b', 'B', 'z', '0', 'a_', 'ä'];
      await upsertResources(t.ctx.db.db, 'paged.prod', [...names.map((n) => write('Workload', n)), ...names.slice(0, 4).map((n) => write('Metric', n)), write('Config', 'only')]);
      await upsertResources(t.ctx.db.db, 'other.prod', [write('Workload', 'a'), write('Workload', 'b')]);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('equals listResources for every page size, yielding between full pages', async () => {
      const all = await listResources(t.ctx.db.db, 'paged.prod');
      expect(all).toHaveLength(15);
      for (const size of [1, 2, 3, 4, 7, 14, 15, 16, 1000]) {
        let turns = 0;
        const paged = await listResourcesPaged(t.ctx.db.db, 'paged.prod', size, async () => void (turns += 1));
        expect(paged, `page size ${size}`).toEqual(all);
        expect(turns).toBe(Math.floor(15 / size));
      }
      expect(await listResourcesPaged(t.ctx.db.db, 'empty.prod', 5, async () => undefined)).toEqual([]);
    });
  });
}
