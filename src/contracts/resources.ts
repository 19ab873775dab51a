/** Live resources (the configuration applications read) and the events that report changes. */
import { z } from 'zod';
import { kindName, namespaceName } from './common.js';
import { jsonObject } from './json.js';

/** A resource's metadata (labels, description; kept as stored). */
export const resourceMetadata = z
  .object({
    labels: z.record(z.string(), z.string()).optional(),
    description: z.string().optional(),
  })
  .loose();
export type ResourceMetadata = z.infer<typeof resourceMetadata>;

export const resource = z.object({
  kind: z.string(),
  name: z.string(),
  spec: jsonObject,
  metadata: resourceMetadata,
  commit: z.string().nullable(),
  hash: z.string(),
  managed_fields: z.array(z.string()),
  file: z.string().nullable(),
  updated_at: z.string(),
});
export type Resource = z.infer<typeof resource>;

export const resourceList = z.object({ items: z.array(resource) });
export const resourceParams = z.object({ ns: namespaceName, kind: kindName, name: z.string().min(1).max(253) });
export const resourcePatchBody = z.object({ spec: jsonObject }).strict();

/** One change to a live resource (an SSE `resource` event), published after its change commits. */
export const resourceEvent = z.object({
  namespace: z.string(),
  operation: z.enum(['create', 'update', 'delete']),
  kind: z.string(),
  name: z.string(),
  hash: z.string().nullable(),
  commit: z.string().nullable(),
  deployment: z.string().nullable(),
  at: z.string(),
});
export type ResourceEvent = z.infer<typeof resourceEvent>;
