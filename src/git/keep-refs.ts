/**
 * The mirror's hidden keep refs (`refs/syncline/keep/<epoch-ms>/<n>`, see mirror-cache.ts) written
 * and removed as loose ref files from Node, so a fetch that moves nothing costs no git process for
 * them (it used to cost three: `update-ref` before, `for-each-ref` and `update-ref` after).
 *
 * The files backend's own protocol is followed: a ref is created by writing `<ref>.lock` with
 * O_EXCL and renaming it into place, so a concurrent reader (upload-pack, the reachability hook)
 * sees either no ref or a complete one. Round names are unique (a timestamp, one fetch per mirror
 * at a time under the mirror lock), so no other writer ever touches the same names. Whatever this
 * module does not understand (a reftable repository, a keep ref that was packed by `pack-refs`)
 * goes through `git update-ref`, as before.
 */
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const OID_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Whether the repository stores refs as files (not reftable): only then are loose files written here. */
export async function hasFilesBackend(dir: string): Promise<boolean> {
  try {
    await stat(join(dir, 'reftable'));
    return false;
  } catch {
    return true;
  }
}

/** Creates `name` → `oid` as loose refs (name must not exist yet). */
export async function writeLooseRefs(dir: string, refs: Array<{ name: string; oid: string }>): Promise<void> {
  for (const { name, oid } of refs) {
    if (!OID_RE.test(oid)) throw new Error(`not an object id: ${oid}`);
    const file = join(dir, name);
    await mkdir(dirname(file), { recursive: true });
    const lock = `${file}.lock`;
    const fh = await open(lock, 'wx');
    try {
      await fh.writeFile(`${oid}\n`);
    } finally {
      await fh.close();
    }
    await rename(lock, file);
  }
}

/**
 * Removes loose refs this process wrote; returns the names that were not loose any more (packed
 * meanwhile), which the caller deletes with `git update-ref`. Empty round directories go too.
 */
export async function deleteLooseRefs(dir: string, names: string[]): Promise<string[]> {
  const notLoose: string[] = [];
  const dirs = new Set<string>();
  for (const name of names) {
    try {
      await unlink(join(dir, name));
      dirs.add(dirname(join(dir, name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      notLoose.push(name);
    }
  }
  for (const d of dirs) await rmdir(d).catch(() => undefined);
  return notLoose;
}

/**
 * Every ref under `prefix` (`refs/syncline/keep`) with its object id, from `packed-refs` and the
 * loose files; null when something is not understood (the caller then asks `for-each-ref`).
 */
export async function listRefsUnder(dir: string, prefix: string): Promise<Map<string, string> | null> {
  const out = new Map<string, string>();
  let packed = '';
  try {
    packed = await readFile(join(dir, 'packed-refs'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return null;
  }
  // Fast path: no packed keep refs and no loose keep directory is the common case.
  if (packed.includes(`${prefix}/`)) {
    for (const line of packed.split('\n')) {
      if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
      const space = line.indexOf(' ');
      const oid = line.slice(0, space);
      const name = line.slice(space + 1);
      if (space === -1 || !OID_RE.test(oid)) return null;
      if (name.startsWith(`${prefix}/`)) out.set(name, oid);
    }
  }
  const ok = await walk(dir, prefix, out);
  return ok ? out : null;
}

async function walk(dir: string, rel: string, out: Map<string, string>): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(join(dir, rel), { withFileTypes: true });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  for (const e of entries) {
    const name = `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (!(await walk(dir, name, out))) return false;
    } else if (e.isFile()) {
      if (e.name.endsWith('.lock')) continue;
      const text = (await readFile(join(dir, name), 'utf8').catch(() => '')).trim();
      if (text === '') continue;
      if (!OID_RE.test(text)) return false;
      out.set(name, text);
    } else {
      return false;
    }
  }
  return true;
}

/** One ref move: from `old` (undefined: the ref must not exist) to `oid`. */
export interface RefUpdate {
  name: string;
  old: string | undefined;
  oid: string;
}

/**
 * Moves refs as `git update-ref` would in one transaction on the files backend: every
 * `<ref>.lock` taken first (O_EXCL), each ref's current value (loose file, else `packed-refs`)
 * checked against `old` under the locks, then the new values renamed into place. Returns false,
 * with nothing changed, when a lock is taken, a value moved meanwhile or anything is not
 * understood (a symbolic ref, a name clash): the caller then lets git do it.
 */
export async function swapLooseRefs(dir: string, updates: RefUpdate[]): Promise<boolean> {
  const locked: Array<{ update: RefUpdate; file: string; lock: string }> = [];
  const release = async (): Promise<void> => {
    for (const l of locked) await unlink(l.lock).catch(() => undefined);
  };
  try {
    for (const update of updates) {
      if (!OID_RE.test(update.oid) || (update.old !== undefined && !OID_RE.test(update.old))) return false;
      const file = join(dir, update.name);
      await mkdir(dirname(file), { recursive: true });
      const fh = await open(`${file}.lock`, 'wx');
      locked.push({ update, file, lock: `${file}.lock` });
      try {
        await fh.writeFile(`${update.oid}\n`);
      } finally {
        await fh.close();
      }
    }
    let packed: string | null = null;
    for (const { update, file } of locked) {
      let current: string | undefined;
      try {
        current = (await readFile(file, 'utf8')).trim();
        if (!OID_RE.test(current)) return false; // symbolic or unknown
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
        packed ??= await readFile(join(dir, 'packed-refs'), 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
        current = packedValue(packed ?? '', update.name);
      }
      if (current !== update.old) return false;
    }
    while (locked.length) {
      const l = locked[0]!;
      await rename(l.lock, l.file);
      locked.shift();
    }
    return true;
  } catch {
    return false;
  } finally {
    await release();
  }
}

function packedValue(packed: string, name: string): string | undefined {
  for (const line of packed.split('\n')) {
    if (line.endsWith(` ${name}`) && !line.startsWith('#') && !line.startsWith('^')) {
      const oid = line.slice(0, line.indexOf(' '));
      if (OID_RE.test(oid)) return oid;
    }
  }
  return undefined;
}
