/** Public surface of the plan layer (pure: no I/O). */
export type * from './types.js';
export { buildPlan, PlanMemo, summarize } from './plan.js';
export { canonicalJson, contentHash } from './hash.js';
export { declaredLeafPaths, diffDeclared, diffPaths } from './diff.js';
export { mergeDeclared, staleManagedPaths } from './merge.js';
export type { MergeOptions, MergeResult } from './merge.js';
export { isInSync } from './drift.js';
