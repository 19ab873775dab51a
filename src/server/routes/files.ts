import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { filesQuery, namespaceFiles as namespaceFilesSchema } from '../../contracts/web.js';
import { namespaceFiles } from '../../sync/service.js';
import { nsParams } from '../../contracts/common.js';
import { errorBody, errorResponses } from '../../contracts/errors.js';

/** `GET /namespaces/{ns}/files?ref=`: the spec files at a ref (the tracked head by default), for previews. */
export const fileRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:ns/files',
    {
      onRequest: app.requireRole('viewer', { namespaceParam: 'ns' }),
      schema: {
        tags: ['sync'],
        params: nsParams,
        querystring: filesQuery,
        response: { 200: namespaceFilesSchema, 413: errorBody, 502: errorBody, ...errorResponses },
      },
    },
    async (req) => namespaceFiles(app.ctx, req.params.ns, req.query.ref),
  );
};
