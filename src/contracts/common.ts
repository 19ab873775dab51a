/**
 * The product's names and identifiers, defined once: every layer (routes, store, git, mirror,
 * specs, CLI) takes its regexes and name schemas from here.
 */
import { z } from 'zod';

/** A dotted lower-case namespace name: `shop.prod`. */
export const NAMESPACE_NAME_RE = /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$/;
/** A source name; also the name of its mirror directory on disk. */
export const SOURCE_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/**
 * A kind name: `Workload`, `Config` — or a kind qualified by its API group, `Deployment.apps`,
 * `Widget.example.com` (two kinds of one name in different groups coexist).
 */
export const KIND_NAME_RE = /^[A-Z][A-Za-z0-9]{0,62}(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?){0,8}$/;
/** A resource name inside a namespace. */
export const RESOURCE_NAME_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;
/** A mirror slug (`/git/<slug>.git`); callers also refuse `..` inside it. */
export const MIRROR_SLUG_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** A full git object id: SHA-1 (40 hex) or SHA-256 (64 hex), lower case as git prints it. */
export const FULL_SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Something that may be an abbreviated or full commit id (any case). */
export const SHA_LIKE_RE = /^[0-9a-f]{4,64}$/i;

export const ROLES = ['viewer', 'deployer', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** Namespace patterns: exact names or a trailing `*` (`shop.*` matches `shop.prod` and `shop.a.b`, not `shop`). */
export const NAMESPACE_PATTERN_RE = /^(\*|[a-z0-9]([a-z0-9_.-]*[a-z0-9])?(\.\*|\*)?)$/;

export const namespaceName = z.string().max(253).regex(NAMESPACE_NAME_RE, 'must be a dotted lower-case name like shop.prod');
export const sourceName = z.string().regex(SOURCE_NAME_RE, `must match ${SOURCE_NAME_RE.source}`);
export const kindName = z.string().regex(KIND_NAME_RE, `must match ${KIND_NAME_RE.source}`);
export const mirrorSlug = z.string().regex(MIRROR_SLUG_RE, `must match ${MIRROR_SLUG_RE.source}`);

export const nsParams = z.object({ ns: namespaceName });

/**
 * Free-form names people read (token names, user names): no control characters, no bidi
 * overrides/isolates or other invisible format characters that make a name display as another.
 */
export const UNSAFE_NAME_CHARS = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
export const displayName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !UNSAFE_NAME_CHARS.test(s), 'must not contain control characters or bidi/invisible formatting characters');

/**
 * A branch name as `git check-ref-format --branch` accepts it: no control characters, space,
 * `~ ^ : ? * [ \`, no `..`, `@{`, `//`, no component starting with `.` or ending with `.lock`,
 * not ending with `/` or `.`, not `@`, not starting with `-`. At most 255 bytes.
 */
export function isValidBranchName(name: string): boolean {
  if (!name || Buffer.byteLength(name) > 255 || name === '@' || name.startsWith('-') || name.startsWith('/')) return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  if (name.endsWith('/') || name.endsWith('.')) return false;
  return name.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** A branch name `git check-ref-format --branch` accepts. */
export const branchName = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => isValidBranchName(s), 'must be a valid git branch name (git check-ref-format)');
