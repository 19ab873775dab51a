import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  // Live as long as the process answers. `details` says what is degraded (e.g. the AMQP broker is
  // unreachable: events wait in the outbox) without failing the check: nothing is lost.
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        response: {
          200: z.object({
            status: z.literal('ok'),
            details: z
              .object({
                events: z.object({
                  state: z.enum(['ok', 'degraded']),
                  relay: z.enum(['leader', 'standby', 'stopped']),
                  sinks: z.array(z.object({ name: z.string(), state: z.enum(['ok', 'degraded']), error: z.string().nullable() })),
                }),
              })
              .optional(),
          }),
        },
      },
    },
    async () => {
      const relay = app.ctx.relay?.status();
      if (!relay) return { status: 'ok' as const };
      const degraded = relay.sinks.some((s) => s.state === 'degraded');
      return { status: 'ok' as const, details: { events: { state: degraded ? ('degraded' as const) : ('ok' as const), relay: relay.role, sinks: relay.sinks } } };
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        response: { 200: z.object({ status: z.literal('ready') }), 503: z.object({ status: z.literal('unavailable'), reason: z.string() }) },
      },
    },
    async (req, reply) => {
      try {
        await app.ctx.db.ping();
        return { status: 'ready' as const };
      } catch (err) {
        req.log.warn({ err }, 'readiness check failed');
        return reply.status(503).send({ status: 'unavailable' as const, reason: 'database unreachable' });
      }
    },
  );
};
