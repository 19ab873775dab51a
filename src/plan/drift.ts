/**
 * Drift helpers over a plan. In sync means git and live agree on everything git declares:
 * nothing to create, update or delete, and nothing invalid. Live resources that git does not
 * declare (no prune) are not part of the plan and so never count as drift.
 */
import type { Plan, PlanResult } from './types.js';

export type DriftState = 'in_sync' | 'out_of_sync' | 'invalid';

export function isInSync(plan: Pick<Plan, 'summary'>): boolean {
  const s = plan.summary;
  return s.create === 0 && s.update === 0 && s.delete === 0 && s.invalid === 0;
}

/** `invalid` when any result is invalid (git cannot be applied), else in / out of sync. */
export function driftState(plan: Pick<Plan, 'summary'>): DriftState {
  if (plan.summary.invalid > 0) return 'invalid';
  return isInSync(plan) ? 'in_sync' : 'out_of_sync';
}

/** The results that are not `noop`: what a sync would change (or what blocks it). */
export function driftedResults(plan: Pick<Plan, 'results'>): PlanResult[] {
  return plan.results.filter((r) => r.operation !== 'noop');
}
