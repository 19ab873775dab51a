import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AppContext } from '../app-context.js';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

export const contextPlugin = fp(
  async (app: FastifyInstance, ctx: AppContext) => {
    app.decorate('ctx', ctx);
  },
  { name: 'syncline-context' },
);
