import { z } from 'zod';
import { plan } from './deployments.js';

export const storedPlan = plan.extend({
  id: z.string(),
  trigger: z.enum(['pull_request', 'api']),
  pull_request: z.object({ number: z.number().int(), url: z.string().nullable() }).nullable(),
  created_at: z.string(),
});
export const storedPlanList = z.object({ items: z.array(storedPlan) });
export const planParams = z.object({ id: z.string().min(1).max(100) });
export const planListQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();
/** Plan + how it was stored: `trigger` (`pull_request` or `api`), the pull request, when. */
export type StoredPlan = z.infer<typeof storedPlan>;
