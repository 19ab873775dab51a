/** Kinds: the server-held JSON Schemas specs are validated against. */
import { z } from 'zod';
import { kindName } from './common.js';
import { jsonObject, jsonValue } from './json.js';

const apiVersionList = z.array(z.string().min(1).max(253)).min(1).max(50);

/**
 * `{schema, equivalents?, api_versions?}` — or `{crd, equivalents?}`: a CustomResourceDefinition (as
 * JSON, or its YAML text) whose stored version's schema becomes the kind's. One object rather than a
 * union so a wrong `schema` is reported as `schema`, not as "matches neither form".
 */
export const kindPutBody = z
  .object({
    schema: jsonObject.optional(),
    crd: z.union([jsonObject, z.string().min(1).max(4 * 1024 * 1024)]).optional(),
    equivalents: z.record(z.string(), z.array(z.array(jsonValue).min(2))).optional(),
    api_versions: apiVersionList.nullable().optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.schema === undefined) === (body.crd === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['schema'], message: 'give exactly one of "schema" or "crd"' });
    }
    if (body.crd !== undefined && body.api_versions != null) {
      ctx.addIssue({ code: 'custom', path: ['api_versions'], message: 'a CRD declares its own versions; "api_versions" goes with "schema" only' });
    }
  });
export type KindPutBody = z.infer<typeof kindPutBody>;

export const kind = z.object({
  name: z.string(),
  schema: jsonObject,
  equivalents: z.record(z.string(), z.array(z.array(jsonValue))),
  /** apiVersions accepted from Kubernetes-form documents; null = any. */
  api_versions: z.array(z.string()).nullable(),
  builtin: z.boolean(),
  updated_at: z.string().nullable(),
});
export type Kind = z.infer<typeof kind>;

export const kindList = z.object({ items: z.array(kind) });
export const kindParams = z.object({ kind: kindName });
