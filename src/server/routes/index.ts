import type { FastifyPluginAsync } from 'fastify';
import { auditRoutes } from './audit.js';
import { kindRoutes } from './kinds.js';
import { namespaceRoutes } from './namespaces.js';
import { sourceRoutes } from './sources.js';
import { tokenRoutes } from './tokens.js';
import { syncRoutes } from './sync.js';
import { deploymentRoutes, namespaceDeploymentRoutes } from './deployments.js';
import { resourceRoutes } from './resources.js';
import { watchRoutes } from './watch.js';
import { mirrorRoutes } from './mirrors.js';
import { sessionRoutes } from './session.js';
import { fileRoutes } from './files.js';
import { eventRoutes } from './events.js';
import { jobRoutes } from './jobs.js';
import { subscriptionRoutes } from './subscriptions.js';
import { clusterRoutes } from './cluster.js';

/** Every resource is its own encapsulated plugin under /api/v1. */
export const registerApiRoutes: FastifyPluginAsync = async (app) => {
  await app.register(tokenRoutes, { prefix: '/tokens' });
  await app.register(sourceRoutes, { prefix: '/sources' });
  await app.register(kindRoutes, { prefix: '/kinds' });
  await app.register(namespaceRoutes, { prefix: '/namespaces' });
  await app.register(syncRoutes, { prefix: '/namespaces' });
  await app.register(namespaceDeploymentRoutes, { prefix: '/namespaces' });
  await app.register(resourceRoutes, { prefix: '/namespaces' });
  await app.register(watchRoutes, { prefix: '/namespaces' });
  await app.register(deploymentRoutes, { prefix: '/deployments' });
  await app.register(auditRoutes, { prefix: '/audit' });
  await app.register(mirrorRoutes, { prefix: '/mirrors' });
  await app.register(sessionRoutes);
  await app.register(fileRoutes, { prefix: '/namespaces' });
  await app.register(eventRoutes, { prefix: '/events' });
  await app.register(jobRoutes, { prefix: '/jobs' });
  await app.register(subscriptionRoutes, { prefix: '/subscriptions' });
  await app.register(clusterRoutes, { prefix: '/cluster' });
};
