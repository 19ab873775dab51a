import type { AppContext } from '../app-context.js';
import { outboxCommitted, recordEvent } from '../events/outbox.js';
import { PR_JOB, PUSH_JOB, type PrJobPayload, type PushJobPayload } from './ingest.js';
import { planPullRequest } from './pulls.js';
import { refreshSource } from './push.js';
import { registerReportJobs } from './reports.js';

/** The webhook job kinds: push/poll refresh per source, pull-request plans, forge reports. */
export function registerWebhookJobs(ctx: AppContext): void {
  ctx.jobs.register<PushJobPayload>(PUSH_JOB, async (p, job) => void (await refreshSource(ctx, p, job)), { maxAttempts: 5 });
  ctx.jobs.register<PrJobPayload>(PR_JOB, async (p, job) => void (await planPullRequest(ctx, p, job)), { maxAttempts: 5 });
  registerReportJobs(ctx);
  registerDeliveryFailedEvent(ctx);
}

/**
 * A job of a received delivery that fails for good (attempts exhausted, or a permanent error)
 * writes `syncline.delivery.failed` in the same transaction (`GET /events` shows it as a
 * `delivery` event to unscoped admins; subscriptions to `*` namespaces receive it).
 */
function registerDeliveryFailedEvent(ctx: AppContext): void {
  ctx.jobs.onFinalFailure(async (tx, job) => {
    if (!job.delivery) return;
    const d = await tx
      .selectFrom('webhook_deliveries')
      .select(['id', 'delivery_id', 'provider', 'event', 'action', 'repository', 'received_at'])
      .where('id', '=', job.delivery)
      .executeTakeFirst();
    if (!d) return;
    await recordEvent(tx, ctx, {
      type: 'syncline.delivery.failed',
      namespace: job.namespace,
      data: {
        delivery: d.id,
        delivery_id: d.delivery_id,
        provider: d.provider,
        event: d.event,
        action: d.action,
        repository: d.repository,
        received_at: d.received_at,
        job: { id: job.id, kind: job.kind, attempts: job.attempts, max_attempts: job.max_attempts, last_error: job.last_error },
        url: `${(ctx.settings.public_url ?? '').replace(/\/+$/, '')}/api/v1/webhooks/deliveries/${d.id}`,
      },
    });
    return outboxCommitted;
  });
}
