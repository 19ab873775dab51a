import type { Role } from '../contracts/common.js';

const RANK: Record<Role, number> = { viewer: 0, deployer: 1, admin: 2 };

export function roleAtLeast(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

export function namespaceMatches(pattern: string, namespace: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return namespace.startsWith(pattern.slice(0, -1));
  return pattern === namespace;
}

/** Whether a token reaches every namespace (no patterns, or `*`). */
export function isUnscoped(patterns: readonly string[] | null | undefined): boolean {
  return !patterns || patterns.length === 0 || patterns.includes('*');
}

/** A token with no patterns may act on every namespace. */
export function scopeAllows(patterns: readonly string[] | null | undefined, namespace: string): boolean {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((p) => namespaceMatches(p, namespace));
}
