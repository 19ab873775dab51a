import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError, SynclineError } from '../../errors.js';
import { kindFromCrd } from '../../specs/crd.js';
import { BUILTIN_KINDS, validateKindDefinition } from '../../specs/kinds.js';
import { assertSafePatterns } from '../../specs/safe-patterns.js';
import { listKindRows, putKind, toKind } from '../../store/kinds.js';
import { errorBody, errorResponses } from '../../contracts/errors.js';
import { kind, kindList, kindParams, kindPutBody } from '../../contracts/kinds.js';

export const kindRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.ctx.db.db;
  const tags = ['kinds'];
  const builtinNames = new Set(BUILTIN_KINDS.map((k) => k.name));
  const builtins = () => BUILTIN_KINDS.map((k) => toKind(k, true));

  app.put(
    '/:kind',
    {
      onRequest: app.requireRole('admin', { unscoped: true }),
      schema: { tags, params: kindParams, body: kindPutBody, response: { 200: kind, 409: errorBody, ...errorResponses } },
    },
    async (req) => {
      const name = req.params.kind;
      if (builtinNames.has(name)) throw new SynclineError('builtin_kind', `Kind '${name}' is built in and cannot be replaced`, { kind: name });
      const body = req.body;
      const def =
        body.crd !== undefined
          ? { name, equivalents: body.equivalents ?? {}, ...kindFromCrd(name, body.crd) }
          : { name, schema: body.schema!, equivalents: body.equivalents ?? {}, api_versions: body.api_versions ?? null };
      // Compiles the schema (strict Ajv) so a bad one is refused before it is stored.
      validateKindDefinition(def);
      // Patterns run on every document on the event loop: refuse catastrophic ones.
      assertSafePatterns(def.schema);
      const { row } = await putKind(db, def, req.principal!.name);
      return toKind(row, false);
    },
  );

  app.get('/', { onRequest: app.requireRole('viewer'), schema: { tags, response: { 200: kindList, ...errorResponses } } }, async () => ({
    items: [...builtins(), ...(await listKindRows(db)).map((r) => toKind(r, false))],
  }));

  app.get(
    '/:kind',
    { onRequest: app.requireRole('viewer'), schema: { tags, params: kindParams, response: { 200: kind, ...errorResponses } } },
    async (req) => {
      const builtin = builtins().find((k) => k.name === req.params.kind);
      if (builtin) return builtin;
      const row = (await listKindRows(db)).find((r) => r.name === req.params.kind);
      if (!row) throw new NotFoundError(`Kind '${req.params.kind}' not found`);
      return toKind(row, false);
    },
  );
};
