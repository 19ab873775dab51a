import { z } from 'zod';

export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
});

export const NAMESPACE_NAME_RE = /^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$/;
export const SOURCE_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const KIND_NAME_RE = /^[A-Z][A-Za-z0-9]{0,62}$/;
export const MIRROR_SLUG_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const namespaceName = z.string().max(253).regex(NAMESPACE_NAME_RE, 'must be a dotted lower-case name like shop.prod');
export const sourceName = z.string().regex(SOURCE_NAME_RE, 'must match ^[a-z0-9][a-z0-9_-]{0,62}$');
export const kindName = z.string().regex(KIND_NAME_RE, 'must match ^[A-Z][A-Za-z0-9]{0,62}$');

export const nsParams = z.object({ ns: namespaceName });

/** Common error responses, so the OpenAPI document lists them. */
export const errorResponses = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
} as const;
