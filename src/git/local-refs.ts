/**
 * A bare repository's branches and tags read straight from its files (`packed-refs` plus loose
 * refs under `refs/heads` and `refs/tags`), so comparing refs before and after a fetch costs no
 * git process. Anything this reader does not understand (a reftable repository, a symbolic ref
 * among branches, a malformed file) falls back to the caller's `for-each-ref`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocalRefs {
  /** Full ref name → object id (tags unpeeled, as `for-each-ref %(objectname)` prints them). */
  refs: Map<string, string>;
  /** Canonical text of `refs`, for cheap equality checks. */
  snapshot: string;
}

const OID_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const ROOTS = ['refs/heads', 'refs/tags'];

class Unsupported extends Error {}

export async function readLocalRefs(dir: string, fallback: () => Promise<string>): Promise<LocalRefs> {
  let refs: Map<string, string>;
  try {
    refs = await readFromFiles(dir);
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
    refs = new Map();
    for (const line of (await fallback()).split('\n')) {
      const [oid, name] = line.split(' ');
      if (oid && name) refs.set(name, oid);
    }
  }
  const names = [...refs.keys()].sort();
  return { refs, snapshot: names.map((n) => `${refs.get(n)} ${n}`).join('\n') };
}

async function readFromFiles(dir: string): Promise<Map<string, string>> {
  if (await exists(join(dir, 'reftable'))) throw new Unsupported('reftable');
  const refs = new Map<string, string>();
  const packed = await readFile(join(dir, 'packed-refs'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  for (const line of packed.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    const oid = line.slice(0, space);
    const name = line.slice(space + 1);
    if (space === -1 || !OID_RE.test(oid)) throw new Unsupported('packed-refs line');
    if (ROOTS.some((r) => name.startsWith(`${r}/`))) refs.set(name, oid);
  }
  // Loose refs override packed ones.
  for (const root of ROOTS) await walk(dir, root, refs);
  return refs;
}

async function walk(dir: string, rel: string, refs: Map<string, string>): Promise<void> {
  let entries;
  try {
    entries = await readdir(join(dir, rel), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    const name = `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(dir, name, refs);
    else if (e.isFile()) {
      if (e.name.endsWith('.lock')) continue;
      const text = (await readFile(join(dir, name), 'utf8').catch(() => '')).trim();
      // A file deleted between readdir and readFile was pruned: not a ref any more.
      if (text === '') continue;
      if (!OID_RE.test(text)) throw new Unsupported(`loose ref ${name}`);
      refs.set(name, text);
    } else {
      throw new Unsupported(`ref entry ${name}`);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
