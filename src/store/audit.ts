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

/** How many items of a long list are redacted and serialised between two event-loop turns. */
const DETAILS_SLICE_ITEMS = 500;

/**
 * `toJson(redactDeep(details))` (the same text once joined), as parts, with the array under
 * `listKey` (e.g. a 10,000-resource sync's `changed`) redacted and serialised DETAILS_SLICE_ITEMS
 * items at a time, `between()` awaited in between. For `recordAudit`'s `detailsText`.
 */
export async function auditDetailsParts(details: Record<string, unknown>, listKey: string, between: () => Promise<void>): Promise<string[]> {
  const out: string[] = [];
  for (const [key, value] of Object.entries(details)) {
    const lead = `${out.length ? ',' : '{'}${JSON.stringify(key)}:`;
    if (key === listKey && Array.isArray(value) && value.length > DETAILS_SLICE_ITEMS) {
      out.push(`${lead}[`);
      for (let i = 0; i < value.length; i += DETAILS_SLICE_ITEMS) {
        if (i > 0) {
          await between();
          out.push(',');
        }
        // Depth 1: as the items' own array would be walked inside `details`.
        out.push(JSON.stringify(redactDeep(value.slice(i, i + DETAILS_SLICE_ITEMS), 1)).slice(1, -1));
      }
      out.push(']');
      continue;
    }
    const json = JSON.stringify(redactDeep(value, 1)) as string | undefined;
    if (json !== undefined) out.push(lead + json);
  }
  out.push(out.length ? '}' : '{}');
  return out;
}

/**
 * Writes one audit event; call it inside the mutation's transaction so both land or neither.
 * `detailsText`: the details' stored text when the caller built it already (`auditDetailsParts`).
 */
export async function recordAudit(db: Executor, event: AuditInput, detailsText?: string): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at: nowIso(),
      actor: event.actor,
      action: event.action,
      target: event.target,
      namespace: event.namespace ?? null,
      details: detailsText ?? toJson(redactDeep(event.details ?? {})),
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
