import { z } from 'zod';

const boolish = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const intish = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max);

const listish = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

/**
 * Every setting, its env name and its default. Keys are the syncline.yaml keys; the env name is
 * `SYNCLINE_` + the key upper-cased. Env wins over the file.
 */
export const settingsSchema = z
  .object({
    port: intish(0, 65535).default(7420),
    host: z.string().min(1).default('0.0.0.0'),
    data_dir: z.string().min(1).default('./data'),
    database_url: z
      .string()
      .refine((v) => /^(sqlite:|postgres(ql)?:\/\/)/.test(v), {
        message: "must start with 'sqlite:' or 'postgres://'",
      })
      .optional(),
    secret_key: z
      .string()
      .refine((v) => decodeKey(v) !== null, {
        message: 'must be 32 bytes as 64 hex characters or base64',
      })
      .optional(),
    admin_token: z.string().min(16, 'must be at least 16 characters').optional(),
    allowed_hosts: listish.default([]),
    allow_file_sources: boolish.default(false),
    public_url: z.string().url().optional(),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    body_limit: intish(1024, 64 * 1024 * 1024).default(1024 * 1024),
    mirror_dir: z.string().min(1).optional(),
    mirror_interval: intish(0, 7 * 24 * 3600).default(300),
    mirror_runtime_sync: boolish.default(true),
    mirror_max_concurrent: intish(1, 256).default(8),
    git_timeout: intish(1, 24 * 3600).default(600),
    git_idle_timeout: intish(1, 3600).default(120),
    max_file_bytes: intish(1, 1024 * 1024 * 1024).default(1024 * 1024),
    max_files: intish(1, 1_000_000).default(10_000),
    max_total_bytes: intish(1, 16 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
    sync_lock_timeout: intish(0, 3600).default(30),
    database_pool_size: intish(1, 1000).default(10),
    database_acquire_timeout: intish(1, 3600).default(10),
    amqp_url: z.string().regex(/^amqps?:\/\//, "must start with 'amqp://' or 'amqps://'").optional(),
    amqp_exchange: z.string().regex(/^[A-Za-z0-9._:-]{1,255}$/).default('syncline.events'),
    amqp_queue: z.string().regex(/^[A-Za-z0-9._:-]{1,250}$/).default('syncline.events.v1'),
    events_retention_days: intish(1, 3650).default(7),
    // Issue 8: repository content and mirror clients must not be able to stall the server.
    max_documents_per_file: intish(1, 1_000_000).default(1000),
    max_documents: intish(1, 10_000_000).default(20_000),
    mirror_body_timeout: intish(1, 3600).default(30),
    mirror_min_body_rate: intish(0, 1024 * 1024 * 1024).default(1024),
    mirror_max_per_client: intish(1, 256).default(4),
    mirror_keep_minutes: intish(0, 7 * 24 * 60).default(30),
    // Issue 12: answers to identical mirror clones reused (src/mirror/pack-cache.ts); 0 MiB = off.
    mirror_pack_cache_mb: intish(0, 1024 * 1024).default(1024),
    mirror_pack_cache_ttl: intish(1, 7 * 24 * 3600).default(300),
    webhook_secret: z.string().min(1).optional(),
    poll_interval: intish(0, 7 * 24 * 3600).default(180),
    job_concurrency: intish(1, 64).default(4),
    job_lease: intish(2, 3600).default(60),
    webhook_timeout: intish(1, 300).default(10),
    webhook_retry_window: intish(1, 30 * 86400).default(86400),
    // Stored plans kept per namespace and trigger (api, pull_request); older ones are pruned.
    plan_retention: intish(1, 100_000).default(50),
  })
  .strict();

export type Settings = z.output<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

export const SETTING_KEYS = Object.keys(settingsSchema.shape) as (keyof Settings)[];

/** A 32-byte key given as 64 hex chars or base64; null when it is neither. */
export function decodeKey(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(t)) {
    const b = Buffer.from(t, 'base64');
    if (b.length === 32) return b;
  }
  return null;
}
