import type { Plan, PlanResult } from '../plan/types.js';
import type { ResultItem } from '../contracts/deployments.js';

/** A plan result as the API shows it, with the status the deployment gave it. */
export function toResultItem(r: PlanResult, status: ResultItem['status']): ResultItem {
  // A plan speaks in the future ("will be created"); an applied deployment says what happened.
  const applied = status === 'success' && (r.operation === 'create' || r.operation === 'delete');
  const message = applied
    ? `${r.kind} '${r.name}' ${r.operation === 'create' ? 'created' : 'deleted (no longer declared in git; prune)'}`
    : r.message;
  return {
    kind: r.kind,
    name: r.name,
    file: r.file,
    line: r.line,
    column: r.column,
    operation: r.operation,
    status,
    code: r.code,
    message: message || null,
    changes: r.changes,
  };
}

export function planItems(plan: Plan): ResultItem[] {
  return plan.results.map((r) => toResultItem(r, r.status));
}

const appliedItemsOf = new WeakMap<Plan, readonly ResultItem[]>();

/**
 * The results of an applied deployment of `plan`, one frozen array per plan: a plan reused by
 * the next no-change sync (sync/last-plan.ts) gives the same array, so its JSON is built once
 * (see cachedJsonParts in apply.ts and deploymentJson in routes/sync.ts).
 */
export function appliedItems(plan: Plan): readonly ResultItem[] {
  let items = appliedItemsOf.get(plan);
  if (!items) appliedItemsOf.set(plan, (items = Object.freeze(plan.results.map((r) => toResultItem(r, appliedStatus(r))))));
  return items;
}

/** Status of each result in an applied deployment. */
export function appliedStatus(r: PlanResult): ResultItem['status'] {
  if (r.operation === 'invalid') return 'invalid';
  return r.operation === 'noop' ? 'skipped' : 'success';
}

/** Status of each result in a deployment that failed validation: nothing was applied. */
export function failedStatus(r: PlanResult): ResultItem['status'] {
  return r.operation === 'invalid' ? 'invalid' : 'skipped';
}
