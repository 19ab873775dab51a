/** Mirrors: read-only copies of sources served over git smart HTTP. */
import { z } from 'zod';
import { MIRROR_ACCESS } from './sources.js';
import { mirrorSlug } from './common.js';

export const mirror = z.object({
  slug: z.string(),
  source: z.string(),
  upstream_url: z.string(),
  public_url: z.string().nullable(),
  access: z.enum(MIRROR_ACCESS),
  status: z.string(),
  present: z.boolean(),
  head_commit: z.string().nullable(),
  last_synced: z.string().nullable(),
  last_sync_error: z.string().nullable(),
});
export type Mirror = z.infer<typeof mirror>;

export const mirrorList = z.object({ items: z.array(mirror) });
export const mirrorParams = z.object({ slug: mirrorSlug });

export const mirrorSyncBody = z
  .object({
    slug: mirrorSlug.optional(),
    allow_runtime_sync: z.boolean().optional(),
  })
  .strict();

export const mirrorSyncSummary = z.object({
  repos_processed: z.number(),
  repos_updated: z.number(),
  errors: z.array(z.object({ slug: z.string(), error: z.string() })),
  skipped: z.array(z.string()).optional(),
});
export type MirrorSyncSummary = z.infer<typeof mirrorSyncSummary>;
