import { describe, expect, it } from 'vitest';
import { declaredLeafPaths, diffDeclared, diffPaths } from '../../../src/plan/diff.js';
import type { SpecContent } from '../../../src/specs/types.js';

describe('declaredLeafPaths (managed fields)', () => {
  it('lists scalar, null and list leaves and recurses into mappings, in document order', () => {
    expect(
      declaredLeafPaths({
        spec: { port: 8080, healthcheck: { path: '/h', interval_seconds: 10 }, tags: ['a', 'b'], note: null, enabled: false },
      }),
    ).toEqual(['/spec/port', '/spec/healthcheck/path', '/spec/healthcheck/interval_seconds', '/spec/tags', '/spec/note', '/spec/enabled']);
  });

  it('treats lists as whole values, even lists of mappings', () => {
    expect(declaredLeafPaths({ spec: { steps: [{ run: 'a' }, { run: 'b' }] } })).toEqual(['/spec/steps']);
  });

  it('treats an empty mapping as a leaf of its own', () => {
    expect(declaredLeafPaths({ spec: { data: {}, resources: { limits: {} } } })).toEqual(['/spec/data', '/spec/resources/limits']);
  });

  it('includes declared labels and description, not undeclared metadata', () => {
    expect(declaredLeafPaths({ spec: { a: 1 }, metadata: { description: 'd', labels: { team: 'x', 'app.io/tier': 'fe' } } })).toEqual([
      '/spec/a',
      '/metadata/labels/team',
      '/metadata/labels/app.io~1tier',
      '/metadata/description',
    ]);
    expect(declaredLeafPaths({ spec: { a: 1 }, metadata: {} })).toEqual(['/spec/a']);
    expect(declaredLeafPaths({ spec: { a: 1 }, metadata: { labels: {} } })).toEqual(['/spec/a', '/metadata/labels']);
  });

  it('escapes / and ~ in keys (RFC 6901)', () => {
    expect(declaredLeafPaths({ spec: { 'a/b': { 'c~d': 1 } } })).toEqual(['/spec/a~1b/c~0d']);
  });

  it('declares nothing for an empty spec', () => {
    expect(declaredLeafPaths({ spec: {} })).toEqual([]);
  });
});

describe('diffDeclared', () => {
  const live: SpecContent = {
    spec: { port: 8080, healthcheck: { path: '/h', interval_seconds: 10 }, tags: ['a', 'b'], admin_note: 'set by hand' },
    metadata: { labels: { team: 'x', owner: 'ops' } },
  };

  it('reports changes only on declared leaves', () => {
    const desired: SpecContent = { spec: { port: 9090, healthcheck: { path: '/h' } }, metadata: { labels: { team: 'y' } } };
    expect(diffDeclared(desired, live)).toEqual([
      { path: '/spec/port', from: 8080, to: 9090 },
      { path: '/metadata/labels/team', from: 'x', to: 'y' },
    ]);
  });

  it('compares lists as whole values', () => {
    expect(diffDeclared({ spec: { tags: ['b', 'a'] }, metadata: {} }, live)).toEqual([{ path: '/spec/tags', from: ['a', 'b'], to: ['b', 'a'] }]);
    expect(diffDeclared({ spec: { tags: ['a', 'b'] }, metadata: {} }, live)).toEqual([]);
  });

  it('omits `from` for fields that do not exist live, and for a resource that does not exist', () => {
    expect(diffDeclared({ spec: { max_instances: 2 }, metadata: {} }, live)).toEqual([{ path: '/spec/max_instances', to: 2 }]);
    expect(diffDeclared({ spec: { port: 1 }, metadata: { description: 'd' } }, null)).toEqual([
      { path: '/spec/port', to: 1 },
      { path: '/metadata/description', to: 'd' },
    ]);
  });

  it('does not coerce types and ignores key order', () => {
    expect(diffDeclared({ spec: { port: '8080' }, metadata: {} }, live)).toEqual([{ path: '/spec/port', from: 8080, to: '8080' }]);
    expect(diffDeclared({ spec: { healthcheck: { interval_seconds: 10.0, path: '/h' } }, metadata: {} }, live)).toEqual([]);
  });

  it('treats a declared empty mapping as satisfied by any live mapping', () => {
    expect(diffDeclared({ spec: { healthcheck: {} }, metadata: {} }, live)).toEqual([]);
    expect(diffDeclared({ spec: { port: {} }, metadata: {} }, live)).toEqual([{ path: '/spec/port', from: 8080, to: {} }]);
  });

  it('reports a leaf that replaces a live mapping, and a mapping that replaces a live scalar', () => {
    expect(diffDeclared({ spec: { healthcheck: 'off' }, metadata: {} }, live)).toEqual([
      { path: '/spec/healthcheck', from: { path: '/h', interval_seconds: 10 }, to: 'off' },
    ]);
    expect(diffDeclared({ spec: { admin_note: { text: 'x' } }, metadata: {} }, live)).toEqual([{ path: '/spec/admin_note/text', to: 'x' }]);
  });
});

describe('diffPaths', () => {
  it('compares two contents at the given paths, once per path', () => {
    const before: SpecContent = { spec: { a: 1, b: 2 }, metadata: {} };
    const after: SpecContent = { spec: { a: 1, c: 3 }, metadata: {} };
    expect(diffPaths(['/spec/a', '/spec/b', '/spec/c', '/spec/b'], before, after)).toEqual([
      { path: '/spec/b', from: 2 },
      { path: '/spec/c', to: 3 },
    ]);
  });

  it('keeps null as a real value distinct from absence', () => {
    expect(diffPaths(['/spec/a'], { spec: {}, metadata: {} }, { spec: { a: null }, metadata: {} })).toEqual([{ path: '/spec/a', to: null }]);
  });
});
