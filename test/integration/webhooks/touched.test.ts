/**
 * touchedNamespaces (src/webhooks/touched.ts): a push reads only the namespaces whose path it
 * touched, by path, on both databases — the same set as filtering every namespace of the branch
 * with pathTouched, for folders, parents, prefixes that are not folders, files and the root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathTouched } from '../../../src/git/changes.js';
import { putNamespace } from '../../../src/store/namespaces.js';
import { touchedNamespaces, touchingPaths, trackedBranches } from '../../../src/webhooks/touched.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS } from '../../helpers/db.js';

describe('touchingPaths', () => {
  it('lists the root, every parent folder and the path itself; null past the limit', () => {
    expect([...touchingPaths(['apps/a/x.yaml', 'b.yaml'])!].sort()).toEqual(['', 'apps', 'apps/a', 'apps/a/x.yaml', 'b.yaml']);
    expect([...touchingPaths([])!]).toEqual(['']);
    expect(touchingPaths(['a/b/c', 'a/b/d'], 4)).toBeNull();
  });
});

describe.each(DIALECTS)('touchedNamespaces (%s)', (dialect) => {
  let t: TestApp;
  const paths: Record<string, string> = {
    'shop.root': '',
    'shop.apps': 'apps',
    'shop.a': 'apps/a',
    'shop.ab': 'apps/ab',
    'shop.ax': 'apps/a/x',
    'shop.file': 'apps/a/one.yaml',
    'shop.other': 'other',
  };

  beforeAll(async () => {
    t = await makeTestApp(dialect, { settings: { allowed_hosts: ['127.0.0.1'] } });
    for (const name of ['shop', 'else']) {
      const r = await t.app.inject({ method: 'POST', url: '/api/v1/sources', headers: t.auth(), payload: { name, url: `http://127.0.0.1:1/${name}.git` } });
      expect(r.statusCode, r.body).toBe(201);
    }
    for (const [name, path] of Object.entries(paths)) await putNamespace(t.ctx.db.db, name, { source: 'shop', branch: 'main', path } as never, 'test');
    // Same paths elsewhere: another branch, another source — never returned.
    await putNamespace(t.ctx.db.db, 'shop.dev', { source: 'shop', branch: 'dev', path: 'apps/a' } as never, 'test');
    await putNamespace(t.ctx.db.db, 'else.a', { source: 'else', branch: 'main', path: 'apps/a' } as never, 'test');
  });
  afterAll(async () => {
    await t.close();
  });

  const reference = (changed: string[]) =>
    Object.entries(paths)
      .filter(([, p]) => pathTouched(p, changed))
      .map(([n]) => n)
      .sort();

  it('returns exactly the namespaces pathTouched picks, for one branch of one source', async () => {
    const cases: string[][] = [
      ['apps/a/x/deploy.yaml'],
      ['apps/a/one.yaml'],
      ['apps/abc/z.yaml'],
      ['apps/ab/z.yaml', 'other/o.yaml'],
      ['README.md'],
      ['apps'],
      [],
    ];
    for (const changed of cases) {
      const got = (await touchedNamespaces(t.ctx.db.db, 'shop', 'main', changed)).map((n) => n.name);
      expect(got, JSON.stringify(changed)).toEqual(reference(changed));
    }
    expect((await touchedNamespaces(t.ctx.db.db, 'shop', 'main', 'all')).map((n) => n.name)).toEqual(Object.keys(paths).sort());
    expect((await touchedNamespaces(t.ctx.db.db, 'shop', 'dev', ['apps/a/q.yaml'])).map((n) => n.name)).toEqual(['shop.dev']);
    expect(await trackedBranches(t.ctx.db.db, 'shop')).toEqual(['dev', 'main']);
  });

  it('a change too wide to list by path falls back to every namespace of the branch, filtered', async () => {
    const changed = Array.from({ length: 3000 }, (_, i) => `bulk/f${i}.yaml`).concat(['apps/ab/z.yaml']);
    expect(touchingPaths(changed)).toBeNull();
    expect((await touchedNamespaces(t.ctx.db.db, 'shop', 'main', changed)).map((n) => n.name)).toEqual(reference(changed));
  });
});
