/** API tokens (the plain value is shown once, at creation). */
import { z } from 'zod';
import { displayName, NAMESPACE_PATTERN_RE, ROLES } from './common.js';

export const role = z.enum(ROLES);
export const namespacePattern = z
  .string()
  .max(253)
  .regex(NAMESPACE_PATTERN_RE, "must be a namespace name or a pattern ending in '*' (e.g. shop.*)");

export const tokenCreateBody = z
  .object({
    name: displayName(100),
    role,
    namespaces: z.array(namespacePattern).max(100).optional(),
  })
  .strict();

export const tokenCreated = z.object({
  id: z.string(),
  token: z.string(),
  name: z.string(),
  role,
  namespaces: z.array(z.string()),
});

export type TokenCreated = z.infer<typeof tokenCreated>;

export const tokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  role,
  namespaces: z.array(z.string()),
  created_at: z.string(),
  created_by: z.string(),
  last_used_at: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof tokenInfo>;

export const tokenList = z.object({ items: z.array(tokenInfo) });
export type TokenList = z.infer<typeof tokenList>;
export const tokenParams = z.object({ id: z.string().min(1).max(100) });
