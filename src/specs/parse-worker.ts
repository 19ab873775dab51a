/**
 * A parse worker (worker_threads): parses and validates spec files off the main thread, so a
 * 10,000-file sync leaves the event loop free for health checks and config reads. It rebuilds
 * the kind registry from the definitions it is sent (once per registry) and answers each batch
 * with `parseFileDetached` results; see parse-pool.ts.
 */
import { parentPort } from 'node:worker_threads';
import { KindRegistry } from './kinds.js';
import { parseFileDetached, type DetachedParse } from './parse.js';
import type { KindDefinition, SpecFile } from './types.js';

export interface ParseRequest {
  id: number;
  registryId: number;
  /** Sent with the first request made with a registry. */
  definitions?: KindDefinition[];
  limits: { maxAliasCount?: number; maxDepth?: number };
  files: SpecFile[];
}

export type ParseReply = { id: number; results: DetachedParse[] } | { id: number; error: string };

const registries = new Map<number, KindRegistry>();

parentPort?.on('message', (req: ParseRequest) => {
  try {
    let registry = registries.get(req.registryId);
    if (!registry) {
      if (!req.definitions) throw new Error(`unknown registry ${req.registryId}`);
      // Only the latest registry is needed: kinds changed, the old one is gone for good.
      registries.clear();
      registry = new KindRegistry(req.definitions);
      registries.set(req.registryId, registry);
    }
    const results = req.files.map((f) => parseFileDetached(f, { registry, ...req.limits }));
    parentPort!.postMessage({ id: req.id, results } satisfies ParseReply);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies ParseReply);
  }
});
