/** Namespaces: a dotted name bound to a source, branch and path, holding live resources. */
import { z } from 'zod';
import { branchName, namespaceName, sourceName } from './common.js';
import { deploymentSummary } from './deployments.js';

export const NAMESPACE_STATUSES = ['never_synced', 'synced', 'out_of_sync', 'error'] as const;
export type NamespaceStatus = (typeof NAMESPACE_STATUSES)[number];

/** Default spec-file globs (relative to the namespace path). */
export const DEFAULT_INCLUDE = ['**/*.yaml', '**/*.yml'] as const;

const globList = z
  .array(
    z
      .string()
      .min(1)
      .max(512)
      .refine((g) => !/[\x00-\x1f]/.test(g), 'must not contain control characters'),
  )
  .max(100);

const namespaceFields = {
  source: sourceName.nullable().optional(),
  branch: branchName.optional(),
  path: z.string().max(1024).optional(),
  auto_sync: z.boolean().optional(),
  prune: z.boolean().optional(),
  allow_unmerged_refs: z.boolean().optional(),
  /** Globs (relative to the path) choosing the spec files; default `**\/*.yaml`, `**\/*.yml`. */
  include: globList.nullable().optional(),
  /** Globs (relative to the path) of files that are not specs; default none. */
  exclude: globList.nullable().optional(),
};

export const namespacePutBody = z.object(namespaceFields).strict();
export type NamespacePutBody = z.infer<typeof namespacePutBody>;

/**
 * PATCH changes only the fields given (`null` for include/exclude restores the default);
 * `{"auto_sync_paused": null}` resumes auto-sync after a rollback (issue 9).
 */
export const namespacePatchBody = z.object({ ...namespaceFields, auto_sync_paused: z.null().optional() }).strict();
export type NamespacePatchBody = z.infer<typeof namespacePatchBody>;

export const namespace = z.object({
  name: z.string(),
  source: z.string().nullable(),
  branch: z.string(),
  path: z.string(),
  auto_sync: z.boolean(),
  prune: z.boolean(),
  allow_unmerged_refs: z.boolean(),
  include: z.array(z.string()),
  exclude: z.array(z.string()),
  status: z.enum(NAMESPACE_STATUSES),
  /** Set while auto-sync is paused by a rollback; `PATCH {"auto_sync_paused": null}` resumes. */
  auto_sync_paused: z.object({ by: z.string(), reason: z.string().nullable(), at: z.string(), commit: z.string() }).nullable(),
  last_deployment: deploymentSummary.nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Namespace = z.infer<typeof namespace>;

/** `PATCH /namespaces/{ns}` as issue 9 needs it: `{"auto_sync_paused": null}` resumes auto-sync. */
export const namespaceResumeBody = z.object({ auto_sync_paused: z.null() }).strict();

export const namespaceList = z.object({ items: z.array(namespace) });
export type NamespaceList = z.infer<typeof namespaceList>;
export const namespaceParams = z.object({ ns: namespaceName });
