import crypto from 'node:crypto';
import type { ResourceEvent } from '../events/hub.js';
import type { Plan } from '../plan/types.js';
import type { Deployment, ResultItem } from '../contracts/deployments.js';
import { auditDetailsParts, recordAudit } from '../store/audit.js';
import { recordDeploymentEvent } from '../events/outbox.js';
import { insertDeployment } from '../store/deployments.js';
import { nowIso } from '../store/json.js';
import { deleteResource, upsertResources, type LiveResource, type ResourceWrite } from '../store/resources.js';
import { planMemoFor, yieldSlice, type PlannedRun } from './steps.js';
import { appliedItems, failedStatus, toResultItem } from './results.js';
import { liveGeneration, rememberApplied } from './last-plan.js';

/** Longest stretch the apply runs without giving the event loop a turn. */
const APPLY_SLICE_MS = 10;

export function newDeploymentId(): string {
  return `dep_${Date.now().toString(36)}${crypto.randomBytes(6).toString('hex')}`;
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** How many array items are serialised between two event-loop turns. */
const JSON_SLICE_ITEMS = 500;

/**
 * `JSON.stringify(items)` (the same text once joined), as parts built `JSON_SLICE_ITEMS` items at
 * a time with `between()` awaited in between: 10,000 results are ~5 MB of JSON, ~30 ms in one call.
 */
export async function jsonArrayParts(items: readonly unknown[], between: () => Promise<void>): Promise<string[]> {
  if (items.length <= JSON_SLICE_ITEMS) return [JSON.stringify(items)];
  const parts: string[] = ['['];
  for (let i = 0; i < items.length; i += JSON_SLICE_ITEMS) {
    if (i > 0) {
      await between();
      parts.push(',');
    }
    parts.push(JSON.stringify(items.slice(i, i + JSON_SLICE_ITEMS)).slice(1, -1));
  }
  parts.push(']');
  return parts;
}

const jsonPartsOf = new WeakMap<readonly unknown[], Promise<string[]>>();

/** jsonArrayParts, kept per array for frozen arrays (appliedItems: a reused plan's results). */
function cachedJsonParts(items: readonly unknown[], between: () => Promise<void>): Promise<string[]> {
  if (!Object.isFrozen(items)) return jsonArrayParts(items, between);
  let parts = jsonPartsOf.get(items);
  if (!parts) {
    jsonPartsOf.set(items, (parts = jsonArrayParts(items, between)));
    // A failed build (a shutdown between slices) is not kept.
    parts.catch(() => jsonPartsOf.delete(items));
  }
  return parts;
}

/**
 * The JSON parts the apply made of an applied deployment's results (`appliedItems`: frozen,
 * built only by `toResultItem`, so exactly the API's result items, with the schema's keys in its
 * order), when it made them: the sync route sends the same text instead of passing 10,000 items
 * through the response schema again.
 */
export function appliedResultsJson(items: readonly unknown[]): Promise<string[]> | undefined {
  return jsonPartsOf.get(items);
}

/** Who asked for a sync, when, and why (`reason`: sync-from-git's optional text, kept on the deployment). */
export interface SyncRequest {
  actor: string;
  startedAt: string;
  reason?: string | null | undefined;
}

function baseDeployment(run: PlannedRun, { actor, startedAt, reason }: SyncRequest): Omit<Deployment, 'status' | 'results'> {
  return {
    id: newDeploymentId(),
    namespace: run.namespace.name,
    ref: run.ref,
    commit: run.commit,
    source: run.source.name,
    author: run.author ? { name: run.author.name, email: run.author.email } : null,
    actor,
    reason: reason ?? null,
    started_at: startedAt,
    finished_at: nowIso(),
    summary: run.plan.summary,
    skipped_files: run.skippedFiles,
  };
}

/**
 * Applies a valid plan in ONE transaction: resources, the deployment record, the audit event and
 * the namespace status all land together or not at all. Resources whose content, managed
 * fields and file are unchanged are not rewritten. Returns the deployment and the events to
 * publish once the transaction has committed.
 */
export async function applyPlan(run: PlannedRun, req: SyncRequest): Promise<{ deployment: Deployment; events: ResourceEvent[] }> {
  const { actor } = req;
  const plan: Plan = run.plan;
  // null for a reused settled plan: its noops are the live rows as they are (nothing to compare).
  // Only noops look a row up: the map is built at the first one (an update-all has none).
  let liveMap: Map<string, LiveResource> | null = null;
  const liveRow = (kind: string, name: string): LiveResource | undefined => {
    if (!run.live) return undefined;
    liveMap ??= new Map<string, LiveResource>(run.live.map((r) => [`${r.kind}\u0000${r.name}`, r]));
    return liveMap.get(`${kind}\u0000${name}`);
  };
  const changed = plan.results.some((r) => r.operation === 'create' || r.operation === 'update' || r.operation === 'delete');
  const deployment: Deployment = {
    ...baseDeployment(run, req),
    status: changed ? 'success' : 'noop',
    results: appliedItems(plan) as ResultItem[],
  };
  const events: ResourceEvent[] = [];
  const at = nowIso();

  // The record's results, the audit entry's changes and the outbox's resource events are
  // megabytes of JSON for 10,000 resources: made in slices while the database runs the resource
  // statements (below), not before them.
  const between = () => yieldSlice(run.app);

  // namespaces.live_generation at the start and the end of the transaction (last-plan.ts).
  let generations = null as [number, number] | null;
  try {
    // On SQLite (a file) the transaction runs on the store's writer thread: its statements, the
    // commit and the WAL checkpoint no longer hold the event loop (see DatabaseHandle.writeTransaction).
    await run.app.db.writeTransaction(async (tx, text) => {
      const generationBefore = await liveGeneration(tx, run.app.db.dialect, run.namespace.name, true);
      // Still one transaction; between statements the event loop gets a turn (health checks and
      // cached reads are answered during a 10,000-resource apply; nothing else can use the
      // transaction's connection meanwhile).
      let slice = performance.now();
      const yieldSometimes = async (): Promise<void> => {
        if (performance.now() - slice < APPLY_SLICE_MS) return;
        // A shutdown stops here: the throw rolls the whole transaction back.
        await yieldSlice(run.app);
        slice = performance.now();
      };
      const writes: ResourceWrite[] = [];
      const deletes: Array<{ kind: string; name: string }> = [];
      for (const r of plan.results) {
        // yieldSometimes' own test, made here: an await per result (10,000 promises) only to
        // learn that the slice has not run out.
        if (performance.now() - slice >= APPLY_SLICE_MS) await yieldSometimes();
        const existing = r.operation === 'noop' ? liveRow(r.kind!, r.name!) : undefined;
        if (r.operation === 'delete') {
          deletes.push({ kind: r.kind!, name: r.name! });
        } else if (r.operation === 'create' || r.operation === 'update' || (r.operation === 'noop' && existing && (!sameFields(existing.managed_fields, r.managedFields) || existing.file !== r.file))) {
          writes.push({
            kind: r.kind!,
            name: r.name!,
            spec: r.merged!.spec,
            metadata: r.merged!.metadata,
            hash: r.hash!,
            managed_fields: r.managedFields,
            file: r.file,
            // A noop keeps the commit its content came from.
            commit: r.operation === 'noop' ? (existing?.commit ?? run.commit) : run.commit,
          });
        }
        if (r.operation === 'create' || r.operation === 'update' || r.operation === 'delete') {
          events.push({
            namespace: run.namespace.name,
            operation: r.operation,
            kind: r.kind!,
            name: r.name!,
            hash: r.operation === 'delete' ? null : r.hash,
            commit: run.commit,
            deployment: deployment.id,
            at,
          });
        }
      }
      const details = {
        deployment: deployment.id,
        status: deployment.status,
        ref: deployment.ref,
        commit: deployment.commit,
        ...(deployment.reason !== null ? { reason: deployment.reason } : {}),
        summary: deployment.summary,
        changed: events.map((e) => ({ operation: e.operation, kind: e.kind, name: e.name, hash: e.hash })),
      };
      // The JSON of the record, then of the audit entry and the outbox event, is made in slices
      // on this thread while the database (the writer thread, the PostgreSQL server) runs the
      // resource statements and then the record's: the main thread was idle there. Only text is
      // made meanwhile; the statements run in the same order as ever, each awaited before the
      // next, and none of them waits for more than the text it writes.
      const resultsJson = cachedJsonParts(deployment.results, between);
      resultsJson.catch(() => undefined); // handled: awaited below
      const restJson = resultsJson.then(async () => ({
        audit: await auditDetailsParts(details, 'changed', between),
        changes: await jsonArrayParts(events, between),
      }));
      restJson.catch(() => undefined); // handled: awaited below (a failure before then rolls back anyway)
      for (const d of deletes) {
        await deleteResource(tx, run.namespace.name, d.kind, d.name);
        await yieldSometimes();
      }
      await upsertResources(tx, run.namespace.name, writes, yieldSometimes);
      // The record, audit entry and outbox event of a 10,000-resource deployment are megabytes of
      // JSON each; on SQLite every statement runs synchronously and an await of it is only a
      // microtask, so without these turns they (and the commit) ran as one stretch.
      await yieldSometimes();
      const recorded = insertDeployment(tx, deployment, text(await resultsJson));
      recorded.catch(() => undefined); // handled: awaited below, where its failure is thrown
      let auditJson: string[];
      let changesJson: string[];
      try {
        ({ audit: auditJson, changes: changesJson } = await restJson);
      } catch (err) {
        // (A shutdown between slices.) The record's statement has been sent: it ends before the
        // transaction's rollback is.
        await recorded.catch(() => undefined);
        throw err;
      }
      await recorded;
      await yieldSometimes();
      await tx
        .updateTable('namespaces')
        .set({ status: 'synced', last_deployment_id: deployment.id, updated_at: at })
        .where('name', '=', run.namespace.name)
        .execute();
      await yieldSometimes();
      await recordAudit(
        tx,
        { actor, action: 'namespace.sync', target: `namespace/${run.namespace.name}`, namespace: run.namespace.name, details },
        text(auditJson),
      );
      await yieldSometimes();
      await recordDeploymentEvent(tx, run.app, deployment, { changes: events, changesJson: text(changesJson), from: run.namespace?.status, to: 'synced' });
      generations = [generationBefore, await liveGeneration(tx, run.app.db.dialect, run.namespace.name)];
      await yieldSometimes();
    });
  } finally {
    // Committed (or rolled back): cached reads of this namespace's resources are dropped before
    // the sync answers, so the next read sees the deployment.
    run.app.cache.invalidate('resources', run.namespace.name);
  }
  // Committed: the next sync of the same documents finds them in sync without planning again.
  // In slices (10,000 results are ~40 ms of work); a plain turn, not yieldSlice: nothing may
  // abort a deployment that has committed. Nothing written (the generation did not move, e.g. a
  // reused plan): the memo already holds each document's result against these rows.
  if (!generations || generations[0] !== generations[1]) {
    const memo = planMemoFor(run.app);
    const docs = new Map(run.parsed.documents.map((d) => [`${d.kind}\u0000${d.name}`, d]));
    let slice = performance.now();
    for (const r of plan.results) {
      const doc = r.kind !== null && r.name !== null ? docs.get(`${r.kind}\u0000${r.name}`) : undefined;
      if (doc) memo.applied(doc, r, run.registry);
      if (performance.now() - slice >= APPLY_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
  }
  // The next run at the same content, kinds and settings reuses the settled plan (last-plan.ts).
  if (generations) rememberApplied(run, ...generations);
  return { deployment, events };
}

/** Records a deployment that failed validation: nothing is applied, the failure is kept. */
export async function recordFailedDeployment(run: PlannedRun, req: SyncRequest): Promise<Deployment> {
  const { actor } = req;
  const plan = run.plan;
  const deployment: Deployment = {
    ...baseDeployment(run, req),
    status: 'failed',
    results: plan.results.map((r) => toResultItem(r, failedStatus(r))),
  };
  await run.app.db.db.transaction().execute(async (tx) => {
    await insertDeployment(tx, deployment);
    await tx
      .updateTable('namespaces')
      .set({ status: 'error', last_deployment_id: deployment.id, updated_at: nowIso() })
      .where('name', '=', run.namespace.name)
      .execute();
    await recordAudit(tx, {
      actor,
      action: 'namespace.sync_failed',
      target: `namespace/${run.namespace.name}`,
      namespace: run.namespace.name,
      details: {
        deployment: deployment.id,
        ref: deployment.ref,
        commit: deployment.commit,
        ...(deployment.reason !== null ? { reason: deployment.reason } : {}),
        summary: deployment.summary,
      },
    });
    await recordDeploymentEvent(tx, run.app, deployment, { from: run.namespace?.status, to: 'error' });
  });
  return deployment;
}
