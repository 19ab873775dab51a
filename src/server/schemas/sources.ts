import { z } from 'zod';
import { MIRROR_SLUG_RE, sourceName } from './common.js';

export const PROVIDERS = ['github', 'gitlab', 'gitea', 'git'] as const;
export const AUTH_TYPES = ['none', 'token', 'basic', 'github_app'] as const;

const secret = z.string().min(1).max(64 * 1024);

export const sourceAuthInput = z
  .object({
    type: z.enum(AUTH_TYPES),
    token: secret.optional(),
    username: z.string().min(1).max(200).optional(),
    password: secret.optional(),
    app_id: z.union([z.string().regex(/^\d{1,20}$/), z.number().int().positive()]).optional(),
    installation_id: z.union([z.string().regex(/^\d{1,20}$/), z.number().int().positive()]).optional(),
    private_key: secret.optional(),
  })
  .strict();
export type SourceAuthInput = z.infer<typeof sourceAuthInput>;

export const mirrorInput = z
  .object({
    enabled: z.boolean(),
    access: z.enum(['token', 'public']).optional(),
    // The contract's pattern, minus what a git URL can't carry unambiguously: '..' and a
    // trailing '.git' (the endpoint strips one '.git' suffix).
    slug: z
      .string()
      .regex(MIRROR_SLUG_RE, 'must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$')
      .refine((s) => !s.includes('..') && !/\.git$/i.test(s), "must not contain '..' or end in '.git'")
      .optional(),
  })
  .strict();

export const sourceCreateBody = z
  .object({
    name: sourceName,
    url: z.string().min(1).max(2048),
    provider: z.enum(PROVIDERS).optional(),
    auth: sourceAuthInput.optional(),
    mirror: mirrorInput.optional(),
    webhook_secret: secret.optional(),
  })
  .strict();
export type SourceCreateBody = z.infer<typeof sourceCreateBody>;

export const sourcePatchBody = z
  .object({
    url: z.string().min(1).max(2048).optional(),
    provider: z.enum(PROVIDERS).optional(),
    auth: sourceAuthInput.optional(),
    mirror: mirrorInput.partial().strict().optional(),
    webhook_secret: secret.nullable().optional(),
  })
  .strict();
export type SourcePatchBody = z.infer<typeof sourcePatchBody>;

export const source = z.object({
  name: z.string(),
  url: z.string(),
  provider: z.enum(PROVIDERS),
  auth: z.object({ type: z.enum(AUTH_TYPES), configured: z.boolean(), username: z.string().nullable().optional() }),
  mirror: z.object({
    enabled: z.boolean(),
    access: z.enum(['token', 'public']),
    slug: z.string(),
    url: z.string().nullable(),
    status: z.string(),
  }),
  webhook_secret_configured: z.boolean(),
  default_branch: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Source = z.infer<typeof source>;

export const sourceList = z.object({ items: z.array(source) });
export const sourceParams = z.object({ name: sourceName });

export const sourceCheckBody = z.object({ ref: z.string().min(1).max(255).optional() }).strict();
export const sourceCheckResult = z.object({
  ok: z.literal(true),
  default_branch: z.string().nullable(),
  head: z.object({ ref: z.string(), commit: z.string() }).nullable(),
  ref: z.object({ ref: z.string(), commit: z.string() }).optional(),
});
