import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError, SynclineError } from '../../errors.js';
import type { JobView } from '../../jobs/queue.js';
import { errorBody, errorResponses } from '../../contracts/errors.js';
import { job, jobList, jobParams, jobQuery, type Job } from '../../contracts/jobs.js';

const view = ({ key: _key, ...j }: JobView): Job => j;

/** `GET /jobs`, `GET /jobs/{id}`, `POST /jobs/{id}/retry` (admin). */
export const jobRoutes: FastifyPluginAsyncZod = async (app) => {
  const { ctx } = app;
  const tags = ['jobs'];
  const admin = app.requireRole('admin', { unscoped: true });

  app.get('/', { onRequest: admin, schema: { tags, querystring: jobQuery, response: { 200: jobList, ...errorResponses } } }, async (req) => ({
    items: (await ctx.jobs.list({ state: req.query.state, limit: req.query.limit })).map(view),
  }));

  app.get('/:id', { onRequest: admin, schema: { tags, params: jobParams, response: { 200: job, ...errorResponses } } }, async (req) => {
    const j = await ctx.jobs.get(req.params.id);
    if (!j) throw new NotFoundError(`Job '${req.params.id}' not found`);
    return view(j);
  });

  app.post(
    '/:id/retry',
    { onRequest: admin, schema: { tags, params: jobParams, response: { 202: job, 409: errorBody, ...errorResponses } } },
    async (req, reply) => {
      const j = await ctx.jobs.retry(req.params.id);
      if (!j) throw new NotFoundError(`Job '${req.params.id}' not found`);
      if (j.state === 'running') throw new SynclineError('job_running', `Job '${j.id}' is running; retry it once it has finished`, { job: j.id });
      return reply.status(202).send(view(j));
    },
  );
};
