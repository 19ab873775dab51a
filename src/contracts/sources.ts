/** Sources: git repositories with credentials (never returned) and mirror settings. */
import { z } from 'zod';
import { displayName, MIRROR_SLUG_RE, sourceName } from './common.js';
import { namespacePattern } from './tokens.js';

/** Which namespaces may bind the source (`["shop.*"]`); null/absent: any, bound by unscoped admins only. */
const bindableBy = z.array(namespacePattern).max(100).nullable();

export const PROVIDERS = ['github', 'gitlab', 'gitea', 'git'] as const;
export type Provider = (typeof PROVIDERS)[number];
export const AUTH_TYPES = ['none', 'token', 'basic', 'github_app'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];
export const MIRROR_ACCESS = ['token', 'public'] as const;
export type MirrorAccess = (typeof MIRROR_ACCESS)[number];

const required = (what: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? `${what} is required for this auth.type` : undefined),
});
const secret = (what: string) => z.string(required(what)).min(1).max(64 * 1024);
const numericId = (what: string) => z.union([z.string().regex(/^\d{1,20}$/), z.number().int().positive()], required(what));
const PEM_RE = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Credentials as submitted: one shape per auth type, no field that does not apply to it. */
export const sourceAuthInput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z.object({ type: z.literal('token'), token: secret('token'), username: displayName(200).optional() }).strict(),
  z.object({ type: z.literal('basic'), username: displayName(200), password: secret('password') }).strict(),
  z
    .object({
      type: z.literal('github_app'),
      app_id: numericId('app_id'),
      installation_id: numericId('installation_id').optional(),
      private_key: secret('private_key').regex(PEM_RE, 'must be a PEM private key'),
    })
    .strict(),
]);
export type SourceAuthInput = z.infer<typeof sourceAuthInput>;

export const mirrorInput = z
  .object({
    enabled: z.boolean(),
    access: z.enum(MIRROR_ACCESS).optional(),
    // The contract's pattern, minus what a git URL can't carry unambiguously: '..' and a
    // trailing '.git' (the endpoint strips one '.git' suffix).
    slug: z
      .string()
      .regex(MIRROR_SLUG_RE, `must match ${MIRROR_SLUG_RE.source}`)
      .refine((s) => !s.includes('..') && !/\.git$/i.test(s), "must not contain '..' or end in '.git'")
      .optional(),
  })
  .strict();

export const sourceCreateBody = z
  .object({
    name: sourceName,
    url: z.string().min(1).max(2048),
    provider: z.enum(PROVIDERS).optional(),
    api_url: z.string().url().max(2048).optional(),
    auth: sourceAuthInput.optional(),
    mirror: mirrorInput.optional(),
    webhook_secret: secret('webhook_secret').optional(),
    namespaces: bindableBy.optional(),
  })
  .strict();
export type SourceCreateBody = z.infer<typeof sourceCreateBody>;

export const sourcePatchBody = z
  .object({
    url: z.string().min(1).max(2048).optional(),
    provider: z.enum(PROVIDERS).optional(),
    api_url: z.string().url().max(2048).nullable().optional(),
    auth: sourceAuthInput.optional(),
    mirror: mirrorInput.partial().strict().optional(),
    webhook_secret: secret('webhook_secret').nullable().optional(),
    namespaces: bindableBy.optional(),
  })
  .strict();
export type SourcePatchBody = z.infer<typeof sourcePatchBody>;

/** Mirror states: `pending` (never fetched), `ready`, `error` (no usable copy), `disabled`. */
export const source = z.object({
  name: z.string(),
  url: z.string(),
  provider: z.enum(PROVIDERS),
  auth: z.object({ type: z.enum(AUTH_TYPES), configured: z.boolean(), username: z.string().nullable().optional() }),
  mirror: z.object({
    enabled: z.boolean(),
    access: z.enum(MIRROR_ACCESS),
    slug: z.string(),
    url: z.string().nullable(),
    status: z.string(),
  }),
  /** The forge REST base (given, or derived from the URL keeping its port); null for plain git. */
  api_url: z.string().nullable(),
  webhook_secret_configured: z.boolean(),
  webhook: z.object({ secret_configured: z.boolean() }),
  default_branch: z.string().nullable(),
  namespaces: z.array(z.string()).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Source = z.infer<typeof source>;

export const sourceList = z.object({ items: z.array(source) });
export type SourceList = z.infer<typeof sourceList>;
export const sourceParams = z.object({ name: sourceName });

export const sourceCheckBody = z.object({ ref: z.string().min(1).max(255).optional() }).strict();
const refCommit = z.object({ ref: z.string(), commit: z.string() });
export const sourceCheckResult = z.object({
  ok: z.literal(true),
  default_branch: z.string().nullable(),
  head: refCommit.nullable(),
  ref: refCommit.optional(),
  /** The forge API's view (GitHub/Gitea/GitLab sources with credentials): a 404 says "not found or no access". */
  api: z
    .object({ reachable: z.boolean(), private: z.boolean().nullable(), permissions: z.record(z.string(), z.boolean()).nullable(), message: z.string().optional() })
    .optional(),
});
export type SourceCheckResult = z.infer<typeof sourceCheckResult>;
