/**
 * In sync means git and live agree on everything git declares: nothing to create, update or
 * delete, and nothing invalid. Live resources that git does not declare (no prune) are not part
 * of the plan and so never count as drift.
 */
import type { Plan } from './types.js';

export function isInSync(plan: Pick<Plan, 'summary'>): boolean {
  const s = plan.summary;
  return s.create === 0 && s.update === 0 && s.delete === 0 && s.invalid === 0;
}
