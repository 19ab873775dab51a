/**
 * Auto-sync policy shared by the sync service and the webhook/poll jobs: a rollback (a sync of a
 * commit other than the branch head while `auto_sync` is on) pauses auto-sync, so the next push
 * does not undo it; `PATCH /namespaces/{ns} {"auto_sync_paused": null}` resumes.
 */
import { resolveBranch } from '../git/refs.js';
import { recordAudit } from '../store/audit.js';
import { fromJson, nowIso, toJson } from '../store/json.js';
import type { Kysely } from 'kysely';
import { getNamespaceRow, type NamespaceRow } from '../store/namespaces.js';
import type { Database } from '../store/types.js';
import type { GitRun } from './steps.js';

export interface AutoSyncPause {
  by: string;
  reason: string | null;
  at: string;
  commit: string;
}

/** Actors that are auto-sync itself (never count as a rollback). */
export function isAutomaticActor(actor: string): boolean {
  return actor.startsWith('webhook:') || actor === 'poll';
}

export function autoSyncPause(row: Pick<NamespaceRow, 'auto_sync_paused'>): AutoSyncPause | null {
  return fromJson<AutoSyncPause | null>(row.auto_sync_paused, null);
}

/** Called inside the namespace lock after a successful apply. */
export async function pauseAutoSyncOnRollback(run: GitRun, actor: string, reason: string | undefined): Promise<void> {
  const ns = run.namespace;
  if (ns.auto_sync !== 1 || isAutomaticActor(actor) || autoSyncPause(ns)) return;
  if (run.ref === ns.branch) return;
  let head: string;
  try {
    head = await resolveBranch(run.mirrorDir, ns.branch, { sourceName: run.source.name });
  } catch {
    return;
  }
  if (head === run.commit) return;
  const pause: AutoSyncPause = { by: actor, reason: reason ?? null, at: nowIso(), commit: run.commit };
  const db = run.app.db.db;
  await db.transaction().execute(async (tx) => {
    await tx.updateTable('namespaces').set({ auto_sync_paused: toJson(pause) }).where('name', '=', ns.name).execute();
    await recordAudit(tx, {
      actor,
      action: 'namespace.auto_sync_paused',
      target: `namespace/${ns.name}`,
      namespace: ns.name,
      details: { ...pause, branch_head: head },
    });
  });
}

/** Resumes auto-sync (`PATCH /namespaces/{ns} {"auto_sync_paused": null}`); audited. */
export async function resumeAutoSync(db: Kysely<Database>, namespace: string, actor: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const row = await getNamespaceRow(tx, namespace);
    const pause = autoSyncPause(row);
    if (!pause) return;
    await tx.updateTable('namespaces').set({ auto_sync_paused: null, updated_at: nowIso() }).where('name', '=', namespace).execute();
    await recordAudit(tx, {
      actor,
      action: 'namespace.auto_sync_resumed',
      target: `namespace/${namespace}`,
      namespace,
      details: { paused: pause },
    });
  });
}
