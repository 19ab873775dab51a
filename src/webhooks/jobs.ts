import type { AppContext } from '../app-context.js';
import { PR_JOB, PUSH_JOB, type PrJobPayload, type PushJobPayload } from './ingest.js';
import { planPullRequest } from './pulls.js';
import { refreshSource } from './push.js';
import { registerReportJobs } from './reports.js';

/** The webhook job kinds: push/poll refresh per source, pull-request plans, forge reports. */
export function registerWebhookJobs(ctx: AppContext): void {
  ctx.jobs.register<PushJobPayload>(PUSH_JOB, async (p) => void (await refreshSource(ctx, p)), { maxAttempts: 5 });
  ctx.jobs.register<PrJobPayload>(PR_JOB, async (p) => void (await planPullRequest(ctx, p)), { maxAttempts: 5 });
  registerReportJobs(ctx);
}
