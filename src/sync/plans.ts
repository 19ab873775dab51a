/**
 * Stored plans: a plan asked for through the API (`trigger: "api"`) or made for a pull request is
 * kept (newest `plan_retention` per namespace and trigger) and announced as
 * `syncline.plan.completed`, both in one transaction.
 */
import crypto from 'node:crypto';
import type { AppContext } from '../app-context.js';
import type { Plan } from '../contracts/deployments.js';
import type { StoredPlan } from '../contracts/plans.js';
import { outboxCommitted, recordPlanEvent } from '../events/outbox.js';
import { nowIso } from '../store/json.js';
import { insertPlan } from '../store/plans.js';

export async function storePlan(
  ctx: AppContext,
  plan: Plan,
  trigger: StoredPlan['trigger'],
  pullRequest: StoredPlan['pull_request'],
): Promise<StoredPlan> {
  const stored: StoredPlan = { ...plan, id: crypto.randomUUID(), trigger, pull_request: pullRequest, created_at: nowIso() };
  await ctx.db.db.transaction().execute(async (tx) => {
    await insertPlan(tx, stored, ctx.settings.plan_retention);
    await recordPlanEvent(tx, ctx, stored);
  });
  outboxCommitted();
  return stored;
}

export { getPlan, listPlans } from '../store/plans.js';
