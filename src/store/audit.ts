import type { Kysely, Transaction } from 'kysely';
import { redactDeep } from '../security/redact.js';
import type { AuditEvent } from '../contracts/audit.js';
import { fromJson, nowIso, toJson } from './json.js';
import type { Database } from './types.js';

export type Executor = Kysely<Database> | Transaction<Database>;

export interface AuditInput {
  actor: string;
  action: string;
  target: string;
  namespace?: string | null;
  details?: Record<string, unknown>;
}

/** Writes one audit event; call it inside the mutation's transaction so both land or neither. */
export async function recordAudit(db: Executor, event: AuditInput): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at: nowIso(),
      actor: event.actor,
      action: event.action,
      target: event.target,
      namespace: event.namespace ?? null,
      details: toJson(redactDeep(event.details ?? {})),
    })
    .execute();
}

export async function listAudit(
  db: Executor,
  q: { namespace?: string | undefined; limit: number; before?: number | undefined },
): Promise<AuditEvent[]> {
  let query = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(q.limit);
  if (q.namespace) query = query.where('namespace', '=', q.namespace);
  if (q.before) query = query.where('id', '<', q.before);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    namespace: r.namespace,
    details: fromJson(r.details, {}),
  }));
}
