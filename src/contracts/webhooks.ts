import { z } from 'zod';
import { job } from './jobs.js';

export const webhookProviderParams = z.object({ provider: z.enum(['github', 'gitea', 'gitlab']) });

export const deliveryAccepted = z.object({
  delivery: z.string(),
  queued: z.array(z.object({ job: z.string(), kind: z.string(), namespace: z.string().nullable() })),
  ignored: z.string().optional(),
});

export const delivery = z.object({
  id: z.string(),
  delivery_id: z.string(),
  provider: z.string(),
  event: z.string(),
  action: z.string().nullable(),
  repository: z.string().nullable(),
  received_at: z.string(),
  status: z.enum(['queued', 'done', 'failed', 'ignored', 'duplicate']),
  error: z.string().nullable(),
  ignored: z.string().nullable(),
  jobs: z.array(job),
});
export const deliveryList = z.object({ items: z.array(delivery) });
export const deliveryParams = z.object({ id: z.string().min(1).max(100) });
export const deliveryQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();
