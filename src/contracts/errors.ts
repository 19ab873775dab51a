/** The error body every failing response carries; its codes come from ./error-codes.ts. */
import { z } from 'zod';
import { ERROR_CODE_LIST } from './error-codes.js';

/** `{"error":{"code","message","details"}}`: the body of every error response. */
export const errorBody = z.object({
  error: z.object({
    code: z.enum(ERROR_CODE_LIST),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
});
export type ErrorBody = z.infer<typeof errorBody>;

/** Error responses most routes can give, so the OpenAPI document lists them. */
export const errorResponses = {
  400: errorBody,
  401: errorBody,
  403: errorBody,
  404: errorBody,
} as const;
