/**
 * Stored plans (`GET /namespaces/{ns}/plans`, `GET /plans/{id}`): pull-request plans and plans
 * asked for through the API. A plan lists every resource of the namespace, so its JSON grows with
 * the namespace (≈130 bytes per unchanged resource); the body is stored gzip-compressed (repetitive
 * JSON: typically a tenth of the size or less) and only the newest `keep` plans per namespace and
 * trigger are kept — pruned in the same transaction as the insert, so a stream of UI previews never
 * evicts the pull-request plans that check runs link to.
 */
import zlib from 'node:zlib';
import type { Plan } from '../contracts/deployments.js';
import type { StoredPlan } from '../contracts/plans.js';
import type { Executor } from './audit.js';
import { fromJson, toJson } from './json.js';

/** Marks a gzip-compressed, base64-encoded body; older rows hold plain JSON (starting with `{`). */
const GZ = 'gz:';

export function encodePlanBody(plan: Plan): string {
  return GZ + zlib.gzipSync(toJson(plan), { level: 6 }).toString('base64');
}

export function decodePlanBody(body: string): Plan {
  const json = body.startsWith(GZ) ? zlib.gunzipSync(Buffer.from(body.slice(GZ.length), 'base64')).toString('utf8') : body;
  return fromJson<Plan>(json, {} as Plan);
}

/** Inserts a stored plan and prunes that namespace's plans of the same trigger beyond the newest `keep`. */
export async function insertPlan(db: Executor, stored: StoredPlan, keep: number): Promise<number> {
  const { id, trigger, pull_request, created_at, ...plan } = stored;
  await db
    .insertInto('plans')
    .values({
      id,
      namespace: plan.namespace,
      trigger,
      ref: plan.ref,
      commit: plan.commit,
      pull_request: pull_request ? toJson(pull_request) : null,
      body: encodePlanBody(plan),
      created_at,
    })
    .execute();
  const newest = db
    .selectFrom('plans')
    .select('id')
    .where('namespace', '=', plan.namespace)
    .where('trigger', '=', trigger)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(keep);
  const pruned = await db
    .deleteFrom('plans')
    .where('namespace', '=', plan.namespace)
    .where('trigger', '=', trigger)
    .where('id', 'not in', newest)
    .executeTakeFirst();
  return Number(pruned.numDeletedRows ?? 0);
}

type PlanRow = { id: string; trigger: string; pull_request: string | null; body: string; created_at: string };

function toStored(r: PlanRow): StoredPlan {
  const plan = decodePlanBody(r.body);
  return {
    ...plan,
    // Plans stored before skipped_files existed have none.
    skipped_files: plan.skipped_files ?? [],
    id: r.id,
    trigger: r.trigger as StoredPlan['trigger'],
    pull_request: fromJson(r.pull_request, null),
    created_at: r.created_at,
  };
}

/** A namespace's stored plans, newest first. */
export async function listPlans(db: Executor, namespace: string, limit = 50): Promise<StoredPlan[]> {
  const rows = await db
    .selectFrom('plans')
    .select(['id', 'trigger', 'pull_request', 'body', 'created_at'])
    .where('namespace', '=', namespace)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toStored);
}

export async function getPlan(db: Executor, id: string): Promise<StoredPlan | null> {
  const r = await db.selectFrom('plans').select(['id', 'trigger', 'pull_request', 'body', 'created_at']).where('id', '=', id).executeTakeFirst();
  return r ? toStored(r) : null;
}
