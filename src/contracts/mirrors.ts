/** Mirrors: read-only copies of sources served over git smart HTTP. */
import { z } from 'zod';
import { MIRROR_ACCESS } from './sources.js';
import { mirrorSlug } from './common.js';

export const MIRROR_SYNC_STATES = ['ok', 'waiting', 'stalled'] as const;
export type MirrorSyncState = (typeof MIRROR_SYNC_STATES)[number];

/** One replica's copy of a mirror (each replica keeps its own copy on its own disk). */
export const mirrorCopy = z.object({
  /** The replica's id (as in `GET /cluster`). */
  replica: z.string(),
  /** This is the replica that answered. */
  self: z.boolean(),
  /** `pending` (no copy yet), `ready` (a complete copy is served), `error` (no copy: the last try failed). */
  status: z.string(),
  present: z.boolean(),
  head_commit: z.string().nullable(),
  /** When this replica last fetched its copy successfully. */
  last_synced: z.string().nullable(),
  last_sync_error: z.string().nullable(),
  /** The code of the last sync error (null after a success). */
  last_sync_error_code: z.string().nullable(),
  /**
   * `ok` (last sync succeeded or none tried), `waiting` (it failed and will be retried next
   * interval), `stalled` (it failed in a way retrying cannot fix: a missing repository, refused
   * credentials; not retried until the source is edited).
   */
  sync_state: z.enum(MIRROR_SYNC_STATES),
});
export type MirrorCopy = z.infer<typeof mirrorCopy>;

/**
 * A mirror as the answering replica sees it: `status` … `sync_state` describe ITS copy (the fields
 * of a mirrorCopy), `replicas` every live replica's copy.
 */
export const mirror = z.object({
  slug: z.string(),
  source: z.string(),
  upstream_url: z.string(),
  public_url: z.string().nullable(),
  access: z.enum(MIRROR_ACCESS),
  ...mirrorCopy.omit({ replica: true, self: true }).shape,
  /** The replica that answered. */
  replica: z.string(),
  /** Every live replica's copy (replicas heard from in the last 15 s, and the one that answered). */
  replicas: z.array(mirrorCopy),
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
