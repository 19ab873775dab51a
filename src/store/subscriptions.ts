import crypto from 'node:crypto';
import type { Subscription, SubscriptionDelivery } from '../contracts/subscriptions.js';
import { NotFoundError } from '../errors.js';
import type { SecretBox } from '../security/secret-box.js';
import { namespaceMatches } from '../security/roles.js';
import { recordAudit, type Executor } from './audit.js';
import { fromJson, nowIso, toJson } from './json.js';
import type { SubscriptionsTable } from './types.js';

const sealContext = (id: string) => `subscription:${id}`;

function toSubscription(r: SubscriptionsTable): Subscription {
  return {
    id: r.id,
    url: r.url,
    types: fromJson<string[]>(r.types, []),
    namespaces: fromJson<string[]>(r.namespaces, []),
    enabled: r.enabled === 1,
    disabled_reason: r.disabled_reason,
    created_at: r.created_at,
    created_by: r.created_by,
  };
}

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

export async function createSubscription(
  db: Executor,
  box: SecretBox,
  input: { url: string; types?: string[] | undefined; namespaces?: string[] | undefined; secret?: string | undefined },
  actor: string,
): Promise<{ subscription: Subscription; secret: string }> {
  const id = `sub_${crypto.randomBytes(9).toString('hex')}`;
  const secret = input.secret ?? generateWebhookSecret();
  const row: SubscriptionsTable = {
    id,
    url: input.url,
    types: toJson(input.types ?? ['*']),
    namespaces: toJson(input.namespaces ?? ['*']),
    secret: box.seal(secret, sealContext(id)),
    enabled: 1,
    disabled_reason: null,
    created_at: nowIso(),
    created_by: actor,
  };
  await db.insertInto('subscriptions').values(row).execute();
  await recordAudit(db, { actor, action: 'subscription.create', target: `subscription/${id}`, details: { url: row.url, types: input.types ?? ['*'], namespaces: input.namespaces ?? ['*'] } });
  return { subscription: toSubscription(row), secret };
}

export async function listSubscriptions(db: Executor): Promise<Subscription[]> {
  return (await db.selectFrom('subscriptions').selectAll().orderBy('created_at').orderBy('id').execute()).map(toSubscription);
}

export async function getSubscriptionRow(db: Executor, id: string): Promise<SubscriptionsTable> {
  const row = await db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Subscription '${id}' not found`, { id });
  return row;
}

export function subscriptionSecret(box: SecretBox, row: SubscriptionsTable): string {
  return box.open(row.secret, sealContext(row.id));
}

export async function deleteSubscription(db: Executor, id: string, actor: string): Promise<void> {
  await getSubscriptionRow(db, id);
  await db.deleteFrom('subscription_deliveries').where('subscription_id', '=', id).execute();
  await db.deleteFrom('subscriptions').where('id', '=', id).execute();
  await recordAudit(db, { actor, action: 'subscription.delete', target: `subscription/${id}` });
}

/** Whether a subscription wants an event: type pattern (`*`, exact, `prefix.*`) and namespace pattern. */
export function subscriptionWants(sub: Subscription, type: string, namespace: string | null): boolean {
  const typeOk = sub.types.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
  if (!typeOk) return false;
  if (sub.namespaces.includes('*')) return true;
  return namespace !== null && sub.namespaces.some((p) => namespaceMatches(p, namespace));
}

/** One pending delivery per enabled subscription that wants the event (idempotent per event). */
export async function enqueueDeliveries(db: Executor, event: { id: string; type: string; subject?: string | undefined }, body: string): Promise<number> {
  const subs = (await db.selectFrom('subscriptions').selectAll().where('enabled', '=', 1).execute()).map(toSubscription);
  const wanted = subs.filter((s) => subscriptionWants(s, event.type, event.subject ?? null));
  const at = nowIso();
  for (const s of wanted) {
    await db
      .insertInto('subscription_deliveries')
      .values({ subscription_id: s.id, event_id: event.id, type: event.type, event: body, status: 'pending', attempts: 0, next_attempt_at: at, last_status: null, last_error: null, created_at: at, delivered_at: null })
      .onConflict((oc) => oc.columns(['subscription_id', 'event_id']).doNothing())
      .execute();
  }
  return wanted.length;
}

export async function listDeliveries(db: Executor, subscriptionId: string, limit = 100): Promise<SubscriptionDelivery[]> {
  await getSubscriptionRow(db, subscriptionId);
  const rows = await db.selectFrom('subscription_deliveries').selectAll().where('subscription_id', '=', subscriptionId).orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    event_id: r.event_id,
    type: r.type,
    status: r.status as SubscriptionDelivery['status'],
    attempts: r.attempts,
    next_attempt_at: r.next_attempt_at,
    last_status: r.last_status,
    last_error: r.last_error,
    created_at: r.created_at,
    delivered_at: r.delivered_at,
  }));
}
