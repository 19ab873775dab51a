import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { CloudEvent, EventType } from '../contracts/events.js';
import type { Deployment } from '../contracts/deployments.js';
import type { StoredPlan } from '../contracts/plans.js';
import type { ResourceEvent } from '../contracts/resources.js';
import type { Executor } from '../store/audit.js';
import type { Dialect } from '../store/migrations/index.js';
import { insertOutbox } from '../store/outbox.js';

/** What recording an event needs from the app: the dialect (for NOTIFY) and the public URL. */
export interface EventContext {
  db: { dialect: Dialect };
  settings: { public_url?: string | undefined };
}

/**
 * In-process wake-up for the relay and SSE tails (the only one on SQLite; on PostgreSQL the
 * NOTIFY queued by the insert wakes every replica). Emitted after a short delay and again by
 * `outboxCommitted()`; a wake-up that finds nothing new costs one indexed query.
 */
export const outboxSignal = new EventEmitter();
outboxSignal.setMaxListeners(0);

/** Call after the transaction that recorded events has committed. */
export function outboxCommitted(): void {
  outboxSignal.emit('wake');
}

export function newEventId(): string {
  return `evt_${Date.now().toString(36)}${crypto.randomBytes(8).toString('hex')}`;
}

function base(ctx: EventContext): string {
  return (ctx.settings.public_url ?? '').replace(/\/+$/, '');
}

export function buildEvent(ctx: EventContext, type: EventType, subject: string | null, data: unknown): CloudEvent {
  return {
    specversion: '1.0',
    id: newEventId(),
    source: subject ? `${base(ctx)}/api/v1/namespaces/${subject}` : `${base(ctx)}/api/v1`,
    type,
    ...(subject ? { subject } : {}),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}

/**
 * Records one event in the outbox. Call it INSIDE the transaction of the change it reports, so
 * the event exists exactly when the change does (a crash between commit and publish loses
 * nothing; a rollback publishes nothing).
 */
export async function recordEvent(
  tx: Executor,
  ctx: EventContext,
  input: { type: EventType; namespace: string | null; data: unknown; watch?: ResourceEvent[]; watchJson?: string },
): Promise<CloudEvent> {
  const event = buildEvent(ctx, input.type, input.namespace, input.data);
  await insertOutbox(tx, ctx.db.dialect, {
    id: event.id,
    type: event.type,
    namespace: input.namespace,
    event: JSON.stringify(event),
    watch: input.watch && input.watch.length > 0 ? (input.watchJson ?? JSON.stringify(input.watch)) : null,
  });
  return event;
}

const DEPLOYMENT_TYPES: Record<Deployment['status'], EventType> = {
  success: 'syncline.deployment.succeeded',
  failed: 'syncline.deployment.failed',
  noop: 'syncline.deployment.noop',
};

/**
 * The deployment event (data: the deployment without per-resource results, plus `url`), the
 * resources it changed (for `/watch`), and `syncline.namespace.status_changed` when the
 * namespace's status moved. One call inside the apply transaction.
 */
export async function recordDeploymentEvent(
  tx: Executor,
  ctx: EventContext,
  deployment: Deployment,
  /** `changesJson`: `JSON.stringify(changes)` when the caller built it already (in slices; see applyPlan). */
  opts: { changes?: ResourceEvent[]; changesJson?: string; from?: string | undefined; to: string },
): Promise<CloudEvent[]> {
  const { results: _results, ...summary } = deployment;
  const events = [
    await recordEvent(tx, ctx, {
      type: DEPLOYMENT_TYPES[deployment.status],
      namespace: deployment.namespace,
      data: { ...summary, url: `${base(ctx)}/api/v1/deployments/${deployment.id}` },
      watch: opts.changes ?? [],
      ...(opts.changesJson !== undefined ? { watchJson: opts.changesJson } : {}),
    }),
  ];
  if (opts.from !== undefined && opts.from !== opts.to) {
    events.push(await recordStatusChange(tx, ctx, deployment.namespace, opts.from, opts.to));
  }
  return events;
}

export function recordStatusChange(tx: Executor, ctx: EventContext, namespace: string, from: string, to: string): Promise<CloudEvent> {
  return recordEvent(tx, ctx, { type: 'syncline.namespace.status_changed', namespace, data: { namespace, from, to } });
}

/**
 * `syncline.plan.completed` for a stored plan (data: the plan without per-resource results, plus
 * `url`). Call inside the transaction that stores the plan.
 */
export function recordPlanEvent(tx: Executor, ctx: EventContext, stored: StoredPlan): Promise<CloudEvent> {
  const { results: _results, ...summary } = stored;
  return recordEvent(tx, ctx, {
    type: 'syncline.plan.completed',
    namespace: stored.namespace,
    data: { ...summary, url: `${base(ctx)}/api/v1/plans/${stored.id}` },
  });
}
