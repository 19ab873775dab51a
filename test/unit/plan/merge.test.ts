import { describe, expect, it } from 'vitest';
import { mergeDeclared, staleManagedPaths } from '../../../src/plan/merge.js';
import type { SpecContent } from '../../../src/specs/types.js';

const live = (): SpecContent => ({
  spec: {
    port: 8080,
    healthcheck: { path: '/h', interval_seconds: 10 },
    resources: { cpu_limit: '500m', memory_limit: '256Mi' },
    tags: ['a', 'b'],
    admin_note: 'set through the API',
  },
  metadata: { labels: { team: 'x', owner: 'ops' }, description: 'old' },
});

describe('mergeDeclared: declared fields onto live', () => {
  it('keeps omitted fields at their live value', () => {
    const { merged, removed } = mergeDeclared(live(), { spec: { port: 9090 }, metadata: {} });
    expect(merged.spec).toEqual({ ...live().spec, port: 9090 });
    expect(merged.metadata).toEqual(live().metadata);
    expect(removed).toEqual([]);
  });

  it('merges nested mappings leaf by leaf, keeping unmanaged siblings', () => {
    const { merged } = mergeDeclared(live(), { spec: { resources: { cpu_limit: '1' } }, metadata: { labels: { team: 'y' } } });
    expect(merged.spec['resources']).toEqual({ cpu_limit: '1', memory_limit: '256Mi' });
    expect(merged.metadata.labels).toEqual({ team: 'y', owner: 'ops' });
  });

  it('replaces lists wholesale', () => {
    const { merged } = mergeDeclared(live(), { spec: { tags: ['c'] }, metadata: {} });
    expect(merged.spec['tags']).toEqual(['c']);
  });

  it('creates from nothing when there is no live resource', () => {
    const { merged, removed } = mergeDeclared(null, { spec: { port: 1, healthcheck: { path: '/' } }, metadata: { description: 'new' } });
    expect(merged).toEqual({ spec: { port: 1, healthcheck: { path: '/' } }, metadata: { description: 'new' } });
    expect(removed).toEqual([]);
  });

  it('a declared empty mapping creates a mapping but keeps a live one as it is', () => {
    expect(mergeDeclared(null, { spec: { data: {} }, metadata: {} }).merged.spec).toEqual({ data: {} });
    expect(mergeDeclared(live(), { spec: { resources: {} }, metadata: {} }).merged.spec['resources']).toEqual({ cpu_limit: '500m', memory_limit: '256Mi' });
    expect(mergeDeclared(live(), { spec: { port: {} }, metadata: {} }).merged.spec['port']).toEqual({});
  });

  it('replaces a live scalar or list with a declared mapping', () => {
    const { merged } = mergeDeclared(live(), { spec: { tags: { primary: 'a' } }, metadata: {} });
    expect(merged.spec['tags']).toEqual({ primary: 'a' });
  });

  it('does not mutate its inputs and does not share objects with them', () => {
    const l = live();
    const desired: SpecContent = { spec: { healthcheck: { path: '/x' }, tags: ['z'] }, metadata: {} };
    const { merged } = mergeDeclared(l, desired, { previouslyManaged: ['/spec/admin_note'] });
    expect(l).toEqual(live());
    expect(desired).toEqual({ spec: { healthcheck: { path: '/x' }, tags: ['z'] }, metadata: {} });
    (merged.spec['tags'] as string[]).push('mutated');
    expect(desired.spec['tags']).toEqual(['z']);
  });

  it('handles a __proto__ key as data', () => {
    const desired = JSON.parse('{"spec": {"data": {"__proto__": {"x": 1}}}, "metadata": {}}') as SpecContent;
    const { merged } = mergeDeclared(null, desired);
    expect(Object.keys(merged.spec['data'] as object)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(merged.spec['data'])).toBe(Object.prototype);
  });
});

describe('mergeDeclared: removing a previously managed field from git removes it from live', () => {
  it('removes a field git managed before and no longer declares', () => {
    const { merged, removed } = mergeDeclared(
      live(),
      { spec: { port: 8080 }, metadata: {} },
      { previouslyManaged: ['/spec/port', '/spec/tags'] },
    );
    expect(merged.spec).not.toHaveProperty('tags');
    expect(removed).toEqual(['/spec/tags']);
    // never-managed fields are untouched
    expect(merged.spec['admin_note']).toBe('set through the API');
  });

  it('removes labels and description the same way', () => {
    const { merged, removed } = mergeDeclared(
      live(),
      { spec: { port: 1 }, metadata: { labels: { team: 'x' } } },
      { previouslyManaged: ['/spec/port', '/metadata/labels/team', '/metadata/labels/owner', '/metadata/description'] },
    );
    expect(merged.metadata).toEqual({ labels: { team: 'x' } });
    expect(removed).toEqual(['/metadata/description', '/metadata/labels/owner']);
  });

  it('deletes mappings left empty by a removal, but not declared ones or spec itself', () => {
    const { merged } = mergeDeclared(
      live(),
      { spec: {}, metadata: {} },
      { previouslyManaged: ['/spec/healthcheck/path', '/spec/healthcheck/interval_seconds', '/spec/port'] },
    );
    expect(merged.spec).not.toHaveProperty('healthcheck');
    expect(merged.spec).not.toHaveProperty('port');

    const all = mergeDeclared(
      { spec: { a: 1 }, metadata: { labels: { t: 'x' } } },
      { spec: {}, metadata: {} },
      { previouslyManaged: ['/spec/a', '/metadata/labels/t'] },
    );
    expect(all.merged).toEqual({ spec: {}, metadata: {} });

    const keepDeclared = mergeDeclared(
      { spec: { data: { a: 1 } }, metadata: {} },
      { spec: { data: {} }, metadata: {} },
      { previouslyManaged: ['/spec/data/a'] },
    );
    expect(keepDeclared.merged.spec).toEqual({ data: {} });
  });

  it('does not remove a stale path that is now the ancestor of a declared one (unmanaged siblings survive)', () => {
    const { merged, removed } = mergeDeclared(
      live(),
      { spec: { resources: { cpu_limit: '2' } }, metadata: {} },
      { previouslyManaged: ['/spec/resources'] },
    );
    expect(merged.spec['resources']).toEqual({ cpu_limit: '2', memory_limit: '256Mi' });
    expect(removed).toEqual([]);
  });

  it('replaces a formerly declared leaf by its new declared children', () => {
    const { merged } = mergeDeclared(
      { spec: { limits: 'none' }, metadata: {} },
      { spec: { limits: { cpu: '1' } }, metadata: {} },
      { previouslyManaged: ['/spec/limits'] },
    );
    expect(merged.spec).toEqual({ limits: { cpu: '1' } });
  });

  it('keeps content inside a former {} leaf that git never owned', () => {
    const { merged, removed } = mergeDeclared(
      { spec: { data: { set_by_admin: true }, other: 1 }, metadata: {} },
      { spec: { other: 1 }, metadata: {} },
      { previouslyManaged: ['/spec/data', '/spec/other'] },
    );
    expect(merged.spec).toEqual({ data: { set_by_admin: true }, other: 1 });
    expect(removed).toEqual([]);
  });

  it('ignores managed paths outside /spec and /metadata, and paths already gone', () => {
    const { merged, removed } = mergeDeclared(live(), { spec: {}, metadata: {} }, {
      previouslyManaged: ['/kind', '', 'not-a-pointer', '/spec', '/spec/ghost', '/status/x'],
    });
    expect(merged).toEqual(live());
    expect(removed).toEqual([]);
  });
});

describe('staleManagedPaths', () => {
  it('returns previously managed paths no longer declared, sorted and deduplicated', () => {
    expect(staleManagedPaths(['/spec/b', '/spec/a', '/spec/a', '/spec/c'], ['/spec/c'])).toEqual(['/spec/a', '/spec/b']);
  });

  it('excludes ancestors of declared paths', () => {
    expect(staleManagedPaths(['/spec/r', '/spec/r/x'], ['/spec/r/y'])).toEqual(['/spec/r/x']);
  });
});
