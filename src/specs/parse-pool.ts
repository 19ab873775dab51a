/**
 * A small pool of parse workers (node:worker_threads; see parse-worker.ts). Parsing and
 * validating a file is CPU work that depends on nothing but the file and the kinds, so a sync
 * with many files to parse sends them to the workers in batches and the main thread only adopts
 * the results into the parse cache (see parseSpecs in sync/steps.ts). The result is the same
 * as parsing here: the workers run the same code on the same definitions.
 *
 * Workers start on first use, are unref'd while idle (they never keep a process alive), are
 * closed after IDLE_CLOSE_MS without work and by `closeParsePool()` (shutdown). A worker that
 * cannot start or dies fails its batches; the caller then parses them on the main thread.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KindRegistry } from './kinds.js';
import type { DetachedParse } from './parse.js';
import type { ParseReply, ParseRequest } from './parse-worker.js';
import type { SpecFile } from './types.js';

const IDLE_CLOSE_MS = 30_000;

interface Slot {
  worker: Worker;
  /** Registry ids this worker has been sent. */
  known: Set<number>;
  pending: Map<number, { resolve: (r: DetachedParse[]) => void; reject: (e: Error) => void }>;
}

const registryIds = new WeakMap<KindRegistry, number>();
let nextRegistryId = 1;
let nextRequestId = 1;
let slots: Slot[] = [];
let rr = 0;
let idleTimer: NodeJS.Timeout | null = null;

/** Workers to run: one CPU is left to the event loop (at least one worker, at most four). */
export function parsePoolSize(): number {
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cpus - 1));
}

/** The worker entry: compiled JavaScript next to this file, or the TypeScript source under a loader (tsx, tests). */
function newWorker(): Worker {
  const js = new URL('./parse-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  // Source tree (tsx, vitest): register tsx in the worker, then import the TypeScript entry (a
  // .ts entry given directly is refused before any loader runs).
  const ts = new URL('./parse-worker.ts', import.meta.url).href;
  // The ESM build of tsx's API (require.resolve finds the CommonJS one next to it).
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(ts)}, ${JSON.stringify(ts)}))`;
  return new Worker(boot, { eval: true, execArgv: [] });
}

function spawnSlot(): Slot {
  const worker = newWorker();
  const slot: Slot = { worker, known: new Set(), pending: new Map() };
  const failAll = (err: Error) => {
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
    slots = slots.filter((s) => s !== slot);
  };
  worker.on('message', (msg: ParseReply) => {
    const p = slot.pending.get(msg.id);
    if (!p) return;
    slot.pending.delete(msg.id);
    if ('error' in msg) p.reject(new Error(`parse worker: ${msg.error}`));
    else p.resolve(msg.results);
    if (slot.pending.size === 0) worker.unref();
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`parse worker exited with code ${code}`)));
  worker.unref();
  return slot;
}

/**
 * Parses `files` (all with content) against `registry` in the workers; resolves one result per
 * file, in order. Rejects when a worker fails (the caller parses on the main thread instead).
 */
export async function parseInWorkers(
  files: SpecFile[],
  registry: KindRegistry | undefined,
  limits: ParseRequest['limits'],
  batchSize = 100,
): Promise<DetachedParse[]> {
  if (files.length === 0) return [];
  if (idleTimer) clearTimeout(idleTimer);
  while (slots.length < parsePoolSize()) slots.push(spawnSlot());
  let registryId = 0;
  if (registry) {
    registryId = registryIds.get(registry) ?? 0;
    if (!registryId) registryIds.set(registry, (registryId = nextRegistryId++));
  }
  const batches: Promise<DetachedParse[]>[] = [];
  for (let i = 0; i < files.length; i += batchSize) {
    const slot = slots[rr++ % slots.length]!;
    const id = nextRequestId++;
    // Content is copied into its own buffer: a Buffer that is a slice of a larger one would
    // otherwise take the whole underlying ArrayBuffer along in the structured clone.
    const batch = files.slice(i, i + batchSize).map((f) => ({
      path: f.path,
      ...(f.id !== undefined ? { id: f.id } : {}),
      ...(f.content !== undefined ? { content: typeof f.content === 'string' ? f.content : new Uint8Array(f.content) } : {}),
    }));
    const req: ParseRequest = { id, registryId, limits, files: batch };
    if (registry && !slot.known.has(registryId)) {
      req.definitions = [...registry.definitions];
      slot.known.add(registryId);
    }
    batches.push(
      new Promise<DetachedParse[]>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.ref();
        slot.worker.postMessage(req);
      }),
    );
  }
  try {
    return (await Promise.all(batches)).flat();
  } finally {
    scheduleIdleClose();
  }
}

function scheduleIdleClose(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    // Another sync's batches still running: look again later.
    if (slots.some((s) => s.pending.size > 0)) scheduleIdleClose();
    else void closeParsePool();
  }, IDLE_CLOSE_MS);
  idleTimer.unref();
}

/** Terminates every parse worker (shutdown; idle close). */
export async function closeParsePool(): Promise<void> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  const closing = slots;
  slots = [];
  await Promise.all(closing.map((s) => s.worker.terminate().catch(() => undefined)));
}
