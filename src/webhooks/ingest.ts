/**
 * Receiving a delivery: verify (raw body, constant time) → parse the used fields → match sources
 * → store the delivery and its jobs in one transaction → the caller answers 202. The work runs
 * in jobs (src/webhooks/push.ts, pulls.ts). Idempotency is the unique (provider, delivery id).
 */
import crypto from 'node:crypto';
import type { Transaction } from 'kysely';
import { NotFoundError, SynclineError, UnauthorizedError } from '../errors.js';
import type { EnqueueResult, JobView } from '../jobs/queue.js';
import { normaliseRepoUrl } from '../providers/repo-url.js';
import type { AppContext } from '../app-context.js';
import { fromJson, nowIso, toJson } from '../store/json.js';
import { listSourceRows, sourceWebhookSecret, type SourceRow } from '../store/sources.js';
import type { Database } from '../store/types.js';
import { actionOf, PayloadError, toEvent, type WebhookEvent } from './events.js';
import { deliveryHeaders, matchSignature, type CandidateSecret, type WebhookProvider } from './signature.js';

export const PUSH_JOB = 'source.refresh';
export const PR_JOB = 'pull_request.plan';

export interface PushJobPayload {
  source: string;
  /** What triggered it: `webhook:<provider>` or `poll`. */
  trigger: string;
  /** The pushed branch and its `before` (the diff base when no head was recorded yet). */
  branch?: string | null;
  before?: string | null;
}

export interface PrJobPayload {
  source: string;
  provider: WebhookProvider;
  number: number;
  base_branch: string;
  head_sha: string;
  url: string | null;
  project_id: number | null;
}

export type DeliveryOutcome =
  | { kind: 'ping' }
  | { kind: 'unhandled'; reason: string }
  | { kind: 'duplicate'; delivery: string }
  | { kind: 'queued'; delivery: string; queued: { job: string; kind: string; namespace: string | null }[]; ignored?: string };

export interface DeliveryView {
  id: string;
  delivery_id: string;
  provider: string;
  event: string;
  action: string | null;
  repository: string | null;
  received_at: string;
  status: 'queued' | 'done' | 'failed' | 'ignored' | 'duplicate';
  error: string | null;
  ignored: string | null;
  jobs: JobView[];
}

/** Decrypted source webhook secrets, cached per source row version. */
const secretCache = new WeakMap<AppContext, Map<string, { stamp: string; secret: string | null }>>();
function sourceSecret(ctx: AppContext, row: SourceRow): string | null {
  let m = secretCache.get(ctx);
  if (!m) secretCache.set(ctx, (m = new Map()));
  const stamp = `${row.updated_at}|${row.webhook_secret ?? ''}`;
  const hit = m.get(row.name);
  if (hit && hit.stamp === stamp) return hit.secret;
  const secret = row.webhook_secret ? sourceWebhookSecret(ctx.box, row) : null;
  m.set(row.name, { stamp, secret });
  return secret;
}

function candidates(ctx: AppContext, rows: SourceRow[]): CandidateSecret[] {
  const out: CandidateSecret[] = [];
  if (ctx.settings.webhook_secret) out.push({ secret: ctx.settings.webhook_secret, source: null });
  for (const row of rows) {
    const s = sourceSecret(ctx, row);
    if (s) out.push({ secret: s, source: row.name });
  }
  return out;
}

export function sourcesForRepo(rows: SourceRow[], repoUrls: string[]): SourceRow[] {
  const wanted = new Set(repoUrls.map(normaliseRepoUrl).filter((x): x is string => !!x));
  return rows.filter((r) => {
    const n = normaliseRepoUrl(r.url);
    return n !== null && wanted.has(n);
  });
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * Handles one POST /webhooks/{provider}. Throws UnauthorizedError (no secret, missing or bad
 * signature, or a source's secret used for another repository) and SynclineError (malformed).
 */
export async function receiveDelivery(
  ctx: AppContext,
  provider: WebhookProvider,
  headers: Headers,
  rawBody: Buffer,
  onStored?: (provider: string, status: string) => void,
  contentType?: string,
): Promise<DeliveryOutcome> {
  const rows = await listSourceRows(ctx.db.db);
  const cands = candidates(ctx, rows);
  if (cands.length === 0) {
    throw new UnauthorizedError('No webhook secret is configured (set SYNCLINE_WEBHOOK_SECRET or a source webhook_secret)');
  }
  const signer = await matchSignature(provider, headers, rawBody, cands);
  if (!signer) throw new UnauthorizedError(`Missing or invalid ${provider} webhook signature`);

  const { event, id: givenId } = deliveryHeaders(provider, headers);
  if (!event) throw new SynclineError('invalid_request', `Missing ${provider} event header`);
  let body: unknown;
  let jsonText = rawBody.toString('utf8');
  try {
    // GitHub may be set to send `application/x-www-form-urlencoded` with the JSON in `payload`.
    if (contentType?.startsWith('application/x-www-form-urlencoded')) jsonText = new URLSearchParams(jsonText).get('payload') ?? '';
    body = JSON.parse(jsonText);
  } catch {
    throw new SynclineError('invalid_request', 'Webhook body is not valid JSON');
  }
  let ev: WebhookEvent;
  try {
    ev = toEvent(provider, event, body);
  } catch (err) {
    if (err instanceof PayloadError) throw new SynclineError('invalid_request', `Invalid ${provider} '${event}' payload: ${err.message}`);
    throw err;
  }

  // A source's secret vouches for that source's repository only.
  if (signer.source !== null) {
    const own = rows.find((r) => r.name === signer.source);
    if (!own || sourcesForRepo([own], ev.repoUrls).length === 0) {
      throw new UnauthorizedError(`The signing secret belongs to source '${signer.source}', which is not this delivery's repository`);
    }
  }
  if (ev.type === 'ping') return { kind: 'ping' };
  if (ev.type === 'unhandled') return { kind: 'unhandled', reason: ev.reason };

  const deliveryId = (givenId ?? `sha256:${crypto.createHash('sha256').update(rawBody).digest('hex')}`).slice(0, 200);
  let matched = sourcesForRepo(rows, ev.repoUrls);
  if (signer.source !== null) matched = matched.filter((r) => r.name === signer.source);
  const repository = ev.repoUrls[0] ?? null;

  const id = crypto.randomUUID();
  const now = nowIso();
  const db = ctx.db.db;
  // One transaction: the jobs first, then the delivery row with its final status and job ids (one
  // write, no update after). A repeated delivery id rolls the whole thing back (its jobs too).
  let outcome: DeliveryOutcome;
  try {
    outcome = await db.transaction().execute(async (tx): Promise<DeliveryOutcome> => {
      const work = await enqueueWork(ctx, tx, id, provider, ev, matched);
      const inserted = await tx
        .insertInto('webhook_deliveries')
        .values({
          id,
          provider,
          delivery_id: deliveryId,
          event,
          action: actionOf(body),
          repository,
          status: work.ignored ? 'ignored' : 'queued',
          error: null,
          ignored: work.ignored ?? null,
          job_ids: toJson(work.queued.map((q) => q.id)),
          payload: jsonText,
          received_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['provider', 'delivery_id']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) throw new RepeatedDelivery();
      return queuedOutcome(id, work);
    });
  } catch (err) {
    if (!(err instanceof RepeatedDelivery)) throw err;
    const existing = await db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('provider', '=', provider)
      .where('delivery_id', '=', deliveryId)
      .executeTakeFirst();
    outcome = { kind: 'duplicate', delivery: existing?.id ?? deliveryId };
  }
  if (outcome.kind === 'queued') ctx.jobs.kick();
  onStored?.(provider, outcome.kind === 'queued' ? (outcome.ignored ? 'ignored' : 'queued') : outcome.kind);
  return outcome;
}

/** Thrown inside the delivery's transaction to roll it back: that delivery id is stored already. */
class RepeatedDelivery extends Error {}

interface QueuedWork {
  queued: EnqueueResult[];
  ignored?: string | undefined;
}

function queuedOutcome(deliveryRowId: string, work: QueuedWork): DeliveryOutcome {
  return {
    kind: 'queued',
    delivery: deliveryRowId,
    queued: work.queued.map((q) => ({ job: q.id, kind: q.kind, namespace: q.namespace })),
    ...(work.ignored ? { ignored: work.ignored } : {}),
  };
}

/** Decides and enqueues the jobs for a delivery (a new one, or a stored one being redelivered). */
async function enqueueWork(
  ctx: AppContext,
  tx: Transaction<Database>,
  deliveryRowId: string,
  provider: WebhookProvider,
  ev: Exclude<WebhookEvent, { type: 'ping' } | { type: 'unhandled' }>,
  matched: SourceRow[],
): Promise<QueuedWork> {
  const queued: EnqueueResult[] = [];
  let ignored: string | undefined;
  if (matched.length === 0) ignored = 'no source matches this repository';
  else if (ev.type === 'push') {
    if (ev.tag || ev.branch === null) ignored = 'tag pushes are ignored';
    else if (ev.deleted) ignored = `branch '${ev.branch}' was deleted`;
    else {
      for (const src of matched) {
        if (!(await tracksBranch(tx, src.name, ev.branch))) continue;
        const payload: PushJobPayload = { source: src.name, trigger: `webhook:${provider}`, branch: ev.branch, before: ev.before };
        queued.push(await ctx.jobs.enqueue(PUSH_JOB, payload, { key: `${PUSH_JOB}:${src.name}`, delivery: deliveryRowId, tx }));
      }
      if (queued.length === 0) ignored = `no namespace tracks branch '${ev.branch}'`;
    }
  } else {
    for (const src of matched) {
      if (!(await tracksBranch(tx, src.name, ev.baseBranch))) continue;
      const payload: PrJobPayload = {
        source: src.name,
        provider,
        number: ev.number,
        base_branch: ev.baseBranch,
        head_sha: ev.headSha,
        url: ev.url,
        project_id: ev.projectId,
      };
      queued.push(
        await ctx.jobs.enqueue(PR_JOB, payload, { key: `${PR_JOB}:${src.name}:${ev.number}:${ev.headSha}`, delivery: deliveryRowId, tx }),
      );
    }
    if (queued.length === 0) ignored = `no namespace tracks base branch '${ev.baseBranch}'`;
  }
  return { queued, ignored };
}

async function tracksBranch(tx: Transaction<Database>, source: string, branch: string): Promise<boolean> {
  const row = await tx.selectFrom('namespaces').select('name').where('source', '=', source).where('branch', '=', branch).limit(1).executeTakeFirst();
  return !!row;
}

/** Runs a stored delivery's work again (new jobs), whatever happened the first time. */
export async function redeliver(ctx: AppContext, id: string): Promise<DeliveryOutcome> {
  const row = await ctx.db.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Delivery '${id}' not found`);
  const provider = row.provider as WebhookProvider;
  const ev = toEvent(provider, row.event, JSON.parse(row.payload));
  if (ev.type === 'ping' || ev.type === 'unhandled') return { kind: 'unhandled', reason: ev.type === 'unhandled' ? ev.reason : 'ping' };
  const matched = sourcesForRepo(await listSourceRows(ctx.db.db), ev.repoUrls);
  const out = await ctx.db.db.transaction().execute(async (tx) => {
    const work = await enqueueWork(ctx, tx, id, provider, ev, matched);
    await tx
      .updateTable('webhook_deliveries')
      .set({ job_ids: toJson(work.queued.map((q) => q.id)), status: work.ignored ? 'ignored' : 'queued', ignored: work.ignored ?? null, updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
    return queuedOutcome(id, work);
  });
  ctx.jobs.kick();
  return out;
}

function deliveryStatus(stored: string, jobs: JobView[]): DeliveryView['status'] {
  if (stored === 'ignored' || stored === 'duplicate') return stored;
  if (jobs.some((j) => j.state === 'failed')) return 'failed';
  if (jobs.length > 0 && jobs.every((j) => j.state === 'done')) return 'done';
  return 'queued';
}

export async function listDeliveries(ctx: AppContext, q: { limit?: number; id?: string } = {}): Promise<DeliveryView[]> {
  let query = ctx.db.db
    .selectFrom('webhook_deliveries')
    .select(['id', 'delivery_id', 'provider', 'event', 'action', 'repository', 'received_at', 'status', 'error', 'ignored', 'job_ids'])
    .orderBy('received_at', 'desc')
    .orderBy('id')
    .limit(q.limit ?? 100);
  if (q.id) query = query.where('id', '=', q.id);
  const rows = await query.execute();
  const ids = [...new Set(rows.flatMap((r) => fromJson<string[]>(r.job_ids, [])))];
  const jobs = new Map<string, JobView>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    for (const j of await Promise.all(chunk.map((jid) => ctx.jobs.get(jid)))) if (j) jobs.set(j.id, j);
  }
  return rows.map((r) => {
    const js = fromJson<string[]>(r.job_ids, []).map((jid) => jobs.get(jid)).filter((j): j is JobView => !!j);
    const status = deliveryStatus(r.status, js);
    const failed = js.find((j) => j.state === 'failed');
    return {
      id: r.id,
      delivery_id: r.delivery_id,
      provider: r.provider,
      event: r.event,
      action: r.action,
      repository: r.repository,
      received_at: r.received_at,
      status,
      error: r.error ?? (failed ? failed.last_error : null),
      ignored: r.ignored,
      jobs: js,
    };
  });
}

export async function getDelivery(ctx: AppContext, id: string): Promise<DeliveryView> {
  const [d] = await listDeliveries(ctx, { id, limit: 1 });
  if (!d) throw new NotFoundError(`Delivery '${id}' not found`);
  return d;
}
