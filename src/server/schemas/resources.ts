import { z } from 'zod';
import { kindName, namespaceName } from './common.js';

export const resource = z.object({
  kind: z.string(),
  name: z.string(),
  spec: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  commit: z.string().nullable(),
  hash: z.string(),
  managed_fields: z.array(z.string()),
  file: z.string().nullable(),
  updated_at: z.string(),
});
export type Resource = z.infer<typeof resource>;

export const resourceList = z.object({ items: z.array(resource) });
export const resourceParams = z.object({ ns: namespaceName, kind: kindName, name: z.string().min(1).max(253) });
export const resourcePatchBody = z.object({ spec: z.record(z.string(), z.unknown()) }).strict();
export const refBody = z.object({ ref: z.string().min(1).max(255).optional() }).strict();

export const driftReport = z.object({
  fetch_status: z.enum(['ok', 'no_file', 'fetch_failed', 'invalid']),
  commit: z.string().nullable(),
  message: z.string().nullable(),
  plan: z.unknown().nullable(),
});
