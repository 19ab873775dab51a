/** The audit trail: every mutation, who, what, when. */
import { z } from 'zod';
import { namespaceName } from './common.js';

export const auditEvent = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  namespace: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof auditEvent>;

export const auditQuery = z
  .object({
    namespace: namespaceName.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: z.coerce.number().int().positive().optional(),
  })
  .strict();

export const auditList = z.object({ items: z.array(auditEvent) });
