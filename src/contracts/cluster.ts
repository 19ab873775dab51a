/** `GET /cluster`: the replicas sharing this database (API.md "Events out"). */
import { z } from 'zod';

export const replica = z.object({
  id: z.string(),
  version: z.string(),
  host: z.string(),
  started_at: z.string(),
  last_seen: z.string(),
  /** Singletons this replica holds now: `outbox`, `webhooks` (and `poller` when that runs leader-locked). */
  roles: z.array(z.string()),
  /** This is the replica that answered. */
  self: z.boolean(),
});
export type Replica = z.infer<typeof replica>;
export const clusterStatus = z.object({ replicas: z.array(replica) });
export type ClusterStatus = z.infer<typeof clusterStatus>;
