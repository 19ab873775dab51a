import { Webhook } from 'standardwebhooks';
import { holdLeadership, type Leadership } from '../cluster/leader.js';
import type { CloudEvent } from '../contracts/events.js';
import { redact } from '../security/redact.js';
import type { SecretBox } from '../security/secret-box.js';
import { guardedFetch } from '../security/outbound-http.js';
import type { GuardOptions, Resolver } from '../security/url-guard.js';
import { recordAudit } from '../store/audit.js';
import type { DatabaseHandle } from '../store/db.js';
import { nowIso } from '../store/json.js';
import { enqueueDeliveries, subscriptionSecret } from '../store/subscriptions.js';
import type { EventSink } from './amqp.js';
import { CoalescedRun } from './coalesced-run.js';
import { outboxCommitted, recordEvent, type EventContext } from './outbox.js';

const BATCH = 20;
const POLL_MS = 1000;
const MAX_BACKOFF_MS = 3600_000;

/**
 * The one outbound HTTP call for webhooks, over the shared guarded agents (security/
 * outbound-http.ts): the URL guard applies at connect time and the socket gets exactly the
 * checked addresses; redirects are not followed. Returns the status (the body is discarded).
 */
export async function postGuarded(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  opts: { guard: GuardOptions; timeoutMs: number },
): Promise<number> {
  const res = await guardedFetch(opts.guard, { timeoutMs: opts.timeoutMs })(rawUrl, { method: 'POST', headers, body });
  await res.body?.cancel().catch(() => undefined);
  return res.status;
}

/** Standard Webhooks headers for one attempt (id = the CloudEvent id, so receivers dedupe). */
export function signedHeaders(secret: string, id: string, body: string, at = new Date()): Record<string, string> {
  const signature = new Webhook(secret).sign(id, at, body);
  return {
    'content-type': 'application/cloudevents+json',
    'user-agent': 'Syncline-Webhooks',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

/** The relay's webhook sink: records one pending delivery per subscription that wants the event. */
export class WebhookSink implements EventSink {
  readonly name = 'webhooks';
  constructor(
    private readonly db: DatabaseHandle,
    private readonly onEnqueued: () => void,
  ) {}

  async publish(event: CloudEvent): Promise<void> {
    const n = await enqueueDeliveries(this.db.db, event, JSON.stringify(event));
    if (n > 0) this.onEnqueued();
  }

  status() {
    return { state: 'ok' as const, error: null };
  }

  async close(): Promise<void> {}
}

export interface DispatcherSettings {
  allowed_hosts: readonly string[];
  webhook_timeout: number;
  webhook_retry_window: number;
  public_url?: string | undefined;
  /** DNS resolver for the URL guard (tests inject one). */
  resolver?: Resolver | undefined;
}

/**
 * Sends due deliveries (leader-locked `webhook-dispatch`, one active across replicas). A 2xx is
 * delivered; anything else (or a timeout, a refused address) is retried with exponential backoff
 * (1 s doubling, capped at 1 h, ±50% jitter) until the retry window (`webhook_retry_window`,
 * default 24 h) has passed since the event — then the delivery fails, the subscription is
 * disabled and audited, and a `syncline.delivery.failed` event is recorded.
 */
export class WebhookDispatcher {
  private leadership: Leadership | null = null;
  private timer: NodeJS.Timeout | null = null;
  private active = false;
  private readonly dispatches = new CoalescedRun(
    async () => {
      while (this.active && (await this.dispatchDue()) === BATCH);
    },
    (err) => this.log.warn({ err: redact(err instanceof Error ? err.message : String(err)) }, 'webhook dispatch failed'),
    () => this.active,
  );

  constructor(
    private readonly db: DatabaseHandle,
    private readonly box: SecretBox,
    private readonly settings: DispatcherSettings,
    private readonly log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
  ) {}

  start(): void {
    if (this.leadership) return;
    this.leadership = holdLeadership(this.db, 'webhook-dispatch', {
      onGain: () => {
        this.active = true;
        this.timer = setInterval(() => this.wake(), POLL_MS);
        this.timer.unref();
        this.wake();
      },
      onLose: () => {
        this.active = false;
        if (this.timer) clearInterval(this.timer);
        this.timer = null;
      },
    });
  }

  get isLeader(): boolean {
    return this.active;
  }

  wake(): void {
    if (this.active) this.dispatches.wake();
  }

  private async dispatchDue(): Promise<number> {
    const now = nowIso();
    const due = await this.db.db
      .selectFrom('subscription_deliveries')
      .innerJoin('subscriptions', 'subscriptions.id', 'subscription_deliveries.subscription_id')
      .select([
        'subscription_deliveries.id as id',
        'subscription_deliveries.event_id as event_id',
        'subscription_deliveries.event as event',
        'subscription_deliveries.attempts as attempts',
        'subscription_deliveries.created_at as created_at',
        'subscriptions.id as sub_id',
      ])
      .where('subscription_deliveries.status', '=', 'pending')
      .where('subscription_deliveries.next_attempt_at', '<=', now)
      .where('subscriptions.enabled', '=', 1)
      .orderBy('subscription_deliveries.id')
      .limit(BATCH)
      .execute();
    await Promise.all(due.map((d) => this.attempt({ ...d, id: Number(d.id) })));
    return due.length;
  }

  private async attempt(d: { id: number; event_id: string; event: string; attempts: number; created_at: string; sub_id: string }): Promise<void> {
    const sub = await this.db.db.selectFrom('subscriptions').selectAll().where('id', '=', d.sub_id).executeTakeFirst();
    if (!sub || sub.enabled !== 1) return;
    let status = 0;
    let error: string | null = null;
    try {
      const headers = signedHeaders(subscriptionSecret(this.box, sub), d.event_id, d.event);
      status = await postGuarded(sub.url, headers, d.event, { guard: { allowedHosts: this.settings.allowed_hosts, allowFileSources: false, lookup: this.settings.resolver }, timeoutMs: this.settings.webhook_timeout * 1000 });
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (err) {
      error = redact(err instanceof Error ? err.message : String(err)).slice(0, 500);
    }
    const attempts = d.attempts + 1;
    const at = nowIso();
    if (error === null) {
      await this.db.db
        .updateTable('subscription_deliveries')
        .set({ status: 'delivered', attempts, last_status: status, last_error: null, next_attempt_at: null, delivered_at: at })
        .where('id', '=', d.id)
        .execute();
      return;
    }
    const age = Date.now() - Date.parse(d.created_at);
    if (age < this.settings.webhook_retry_window * 1000) {
      const delay = Math.min(1000 * 2 ** (attempts - 1), MAX_BACKOFF_MS) * (0.5 + Math.random());
      await this.db.db
        .updateTable('subscription_deliveries')
        .set({ attempts, last_status: status || null, last_error: error, next_attempt_at: new Date(Date.now() + delay).toISOString() })
        .where('id', '=', d.id)
        .execute();
      return;
    }
    // Failing for the whole window: give up on this subscription, audited, and say so as an event.
    const ctx: EventContext = { db: { dialect: this.db.dialect }, settings: { public_url: this.settings.public_url } };
    await this.db.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('subscription_deliveries')
        .set({ status: 'failed', attempts, last_status: status || null, last_error: error, next_attempt_at: null })
        .where('id', '=', d.id)
        .execute();
      await tx
        .updateTable('subscription_deliveries')
        .set({ status: 'failed', last_error: 'subscription disabled', next_attempt_at: null })
        .where('subscription_id', '=', sub.id)
        .where('status', '=', 'pending')
        .execute();
      const reason = `deliveries failing for ${this.settings.webhook_retry_window} s (last: ${error})`;
      const disabled = await tx.updateTable('subscriptions').set({ enabled: 0, disabled_reason: reason }).where('id', '=', sub.id).where('enabled', '=', 1).executeTakeFirst();
      if (Number(disabled.numUpdatedRows) === 0) return;
      await recordAudit(tx, { actor: 'system', action: 'subscription.disabled', target: `subscription/${sub.id}`, details: { url: sub.url, reason, event: d.event_id } });
      await recordEvent(tx, ctx, {
        type: 'syncline.delivery.failed',
        namespace: null,
        data: { subscription: sub.id, url: sub.url, event_id: d.event_id, attempts, last_error: error, disabled: true },
      });
    });
    outboxCommitted();
    this.log.warn({ subscription: sub.id, attempts }, 'webhook subscription disabled: failing for the whole retry window');
  }

  async stop(): Promise<void> {
    await this.leadership?.stop();
    this.leadership = null;
    this.active = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.dispatches.idle();
  }
}
