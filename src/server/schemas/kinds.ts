import { z } from 'zod';
import { kindName } from './common.js';

export const kindPutBody = z
  .object({
    schema: z.record(z.string(), z.unknown()),
    equivalents: z.record(z.string(), z.array(z.array(z.unknown()).min(2))).optional(),
  })
  .strict();

export const kind = z.object({
  name: z.string(),
  schema: z.record(z.string(), z.unknown()),
  equivalents: z.record(z.string(), z.array(z.array(z.unknown()))),
  builtin: z.boolean(),
  updated_at: z.string().nullable(),
});
export type Kind = z.infer<typeof kind>;

export const kindList = z.object({ items: z.array(kind) });
export const kindParams = z.object({ kind: kindName });
