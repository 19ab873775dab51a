/** Kinds: the server-held JSON Schemas specs are validated against. */
import { z } from 'zod';
import { kindName } from './common.js';
import { jsonObject, jsonValue } from './json.js';

export const kindPutBody = z
  .object({
    schema: jsonObject,
    equivalents: z.record(z.string(), z.array(z.array(jsonValue).min(2))).optional(),
  })
  .strict();

export const kind = z.object({
  name: z.string(),
  schema: jsonObject,
  equivalents: z.record(z.string(), z.array(z.array(jsonValue))),
  builtin: z.boolean(),
  updated_at: z.string().nullable(),
});
export type Kind = z.infer<typeof kind>;

export const kindList = z.object({ items: z.array(kind) });
export const kindParams = z.object({ kind: kindName });
