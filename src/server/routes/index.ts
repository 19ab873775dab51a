import type { FastifyPluginAsync } from 'fastify';
import { auditRoutes } from './audit.js';
import { kindRoutes } from './kinds.js';
import { namespaceRoutes } from './namespaces.js';
import { sourceRoutes } from './sources.js';
import { tokenRoutes } from './tokens.js';

/** Every resource is its own encapsulated plugin under /api/v1. */
export const registerApiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(tokenRoutes, { prefix: '/tokens' });
  await app.register(sourceRoutes, { prefix: '/sources' });
  await app.register(kindRoutes, { prefix: '/kinds' });
  await app.register(namespaceRoutes, { prefix: '/namespaces' });
  await app.register(auditRoutes, { prefix: '/audit' });
};
