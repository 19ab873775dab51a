import { describe, expect, it } from 'vitest';
import { KindRegistry } from '../../../src/specs/kinds.js';
import { ParseCache, parseSpecFiles, warmParseCache } from '../../../src/specs/parse.js';

const api = 'kind: Config\nname: api\nspec:\n  data: {port: 1}\n';
const bad = 'kind: Config\nname: bad\nspec: [1]\n';

describe('ParseCache', () => {
  it('gives the same result as an uncached parse, without needing content on a hit', () => {
    const registry = new KindRegistry();
    const cache = new ParseCache();
    const files = [
      { path: 'a.yaml', id: 'blob-a', content: api },
      { path: 'b.yaml', id: 'blob-b', content: bad },
    ];
    const fresh = parseSpecFiles(files, { registry });
    const first = parseSpecFiles(files, { registry, cache });
    expect(first).toEqual(fresh);
    expect(cache.has('a.yaml', 'blob-a', { registry })).toBe(true);
    const again = parseSpecFiles(files.map(({ path, id }) => ({ path, id })), { registry, cache });
    expect(again).toEqual(fresh);
  });

  it('warmParseCache leaves the cache parseSpecFiles would (file by file), the same documents', () => {
    const registry = new KindRegistry();
    const dup = 'kind: Config\nname: api\nspec:\n  data: {}\n';
    const files = [
      { path: 'a.yaml', id: 'blob-a', content: api },
      { path: 'b.yaml', id: 'blob-b', content: bad },
      { path: 'c.yaml', id: 'blob-c', content: dup }, // a duplicate of a.yaml's document
      { path: 'notes.txt', id: 'blob-t', content: 'not a spec' },
    ];
    for (const singleFile of [false, true]) {
      const byCall = new ParseCache();
      const warmed = new ParseCache();
      for (const f of files) parseSpecFiles([f], { registry, cache: byCall, singleFile });
      for (const f of files) warmParseCache([f], { registry, cache: warmed, singleFile });
      expect(warmed.size).toBe(byCall.size);
      for (const f of files) expect(warmed.has(f.path, f.id, { registry })).toBe(byCall.has(f.path, f.id, { registry }));
      const bare = files.map(({ path, id }) => ({ path, id }));
      const fromWarm = parseSpecFiles(bare, { registry, cache: warmed, singleFile });
      expect(fromWarm).toEqual(parseSpecFiles(bare, { registry, cache: byCall, singleFile }));
      expect(fromWarm).toEqual(parseSpecFiles(files, { registry, singleFile }));
      // The very document objects the cache holds (what the plan memo keys on).
      expect(fromWarm.documents[0]).toBe(parseSpecFiles(bare, { registry, cache: warmed, singleFile }).documents[0]);
    }
  });

  it('keys by path and content id: a changed blob or a moved file is parsed anew', () => {
    const registry = new KindRegistry();
    const cache = new ParseCache();
    parseSpecFiles([{ path: 'a.yaml', id: 'v1', content: api }], { registry, cache });
    expect(cache.has('a.yaml', 'v2', { registry })).toBe(false);
    expect(cache.has('moved/a.yaml', 'v1', { registry })).toBe(false);
    const moved = parseSpecFiles([{ path: 'moved/a.yaml', id: 'v1', content: api }], { registry, cache });
    expect(moved.documents[0]?.file).toBe('moved/a.yaml');
  });

  it('is dropped when the kinds change (a new registry)', () => {
    const cache = new ParseCache();
    const before = new KindRegistry();
    parseSpecFiles([{ path: 'a.yaml', id: 'v1', content: api }], { registry: before, cache });
    expect(cache.has('a.yaml', 'v1', { registry: new KindRegistry() })).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('duplicates across a cached and a fresh file are still reported', () => {
    const registry = new KindRegistry();
    const cache = new ParseCache();
    parseSpecFiles([{ path: 'a.yaml', id: 'v1', content: api }], { registry, cache });
    const out = parseSpecFiles([{ path: 'a.yaml', id: 'v1' }, { path: 'b.yaml', id: 'v9', content: api }], { registry, cache });
    expect(out.documents).toHaveLength(0);
    expect(out.invalid.map((i) => i.code)).toEqual(['duplicate_resource', 'duplicate_resource']);
  });
});

describe('ParseCache bookkeeping', () => {
  it('holds what a map of joined keys with the oldest entry dropped first would (replacements keep their place)', () => {
    const registry = new KindRegistry();
    let seed = 5;
    const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (const max of [1, 2, 5, 17]) {
      const cache = new ParseCache(max);
      const model = new Map<string, unknown>();
      const key = (path: string, id: string, depth: number) => `${depth}\u0000${path}\u0000${id}`;
      for (let i = 0; i < 3000; i++) {
        const path = `p${Math.floor(r() * 6)}.yaml`;
        const id = `b${Math.floor(r() * 4)}`;
        const maxDepth = r() < 0.8 ? undefined : 50;
        const depth = maxDepth ?? -1;
        if (r() < 0.5) {
          parseSpecFiles([{ path, id, content: api }], { registry, cache, ...(maxDepth ? { maxDepth } : {}) });
          // parseSpecFiles sets only on a miss; the model does the same.
          if (!model.has(key(path, id, depth))) {
            if (model.size >= max) model.delete(model.keys().next().value!);
            model.set(key(path, id, depth), true);
          }
        }
        expect(cache.size).toBe(model.size);
        for (const p of ['p0.yaml', 'p1.yaml', 'p5.yaml']) {
          for (const b of ['b0', 'b3']) {
            expect(cache.has(p, b, { registry })).toBe(model.has(key(p, b, -1)));
            expect(cache.has(p, b, { registry, maxDepth: 50 })).toBe(model.has(key(p, b, 50)));
          }
        }
      }
    }
  });
});
