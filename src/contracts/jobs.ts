import { z } from 'zod';

export const jobState = z.enum(['queued', 'running', 'done', 'failed']);

export const job = z.object({
  id: z.string(),
  kind: z.string(),
  state: jobState,
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  last_error: z.string().nullable(),
  run_at: z.string(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  delivery: z.string().nullable(),
  namespace: z.string().nullable(),
});
export type Job = z.infer<typeof job>;

export const jobList = z.object({ items: z.array(job) });
export const jobQuery = z
  .object({
    state: jobState.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();
export const jobParams = z.object({ id: z.string().min(1).max(100) });
