import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { StreamEvent } from '../../events/hub.js';
import { isUnscoped, roleAtLeast } from '../../security/roles.js';
import { canSee, type Principal } from '../auth.js';
import { errorResponses } from '../../contracts/errors.js';

const HEARTBEAT_MS = 15_000;

/** Which events a token may see: its namespaces; events of no namespace (deliveries) only for unscoped admins. */
function visible(principal: Principal, e: StreamEvent): boolean {
  if (e.namespace === null) return roleAtLeast(principal.role, 'admin') && isUnscoped(principal.namespaces);
  return canSee(principal, e.namespace);
}

/**
 * `GET /events`: Server-Sent Events across the namespaces the token can see (`namespace`,
 * `deployment`, `plan`, `delivery`), each with an `id`. A reconnect with `Last-Event-ID` replays
 * what it missed, or gets a `reset` event when that is no longer known (reload everything).
 */
export const eventRoutes: FastifyPluginAsyncZod = async (app) => {
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  app.get(
    '/',
    {
      onRequest: app.requireRole('viewer'),
      schema: {
        tags: ['events'],
        description: 'Server-Sent Events (`text/event-stream`): `namespace`, `deployment`, `plan`, `delivery`; resumable with `Last-Event-ID`.',
        response: errorResponses,
      },
    },
    async (req, reply) => {
      const principal = req.principal!;
      // Follow the outbox before the stream opens: a sync made once the client sees the response
      // is then never taken for history.
      await app.ctx.events.activity.ready();
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': req.id,
      });
      const send = (e: StreamEvent) => {
        if (!visible(principal, e)) return;
        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ namespace: e.namespace, at: e.at, ...e.data })}\n\n`);
      };
      res.write('retry: 3000\n: connected\n\n');
      const lastHeader = req.headers['last-event-id'];
      const lastId = typeof lastHeader === 'string' && /^\d{1,20}$/.test(lastHeader) ? Number(lastHeader) : null;
      // Live events are held back while the replay runs, then those it already covered are dropped.
      let held: StreamEvent[] | null = lastId !== null ? [] : null;
      const unsubscribe = app.ctx.events.activity.subscribe((e) => (held ? held.push(e) : send(e)));
      if (lastId !== null) {
        const missed = await app.ctx.events.activity.since(lastId);
        if (missed === null) res.write(`event: reset\ndata: {}\n\n`);
        else for (const e of missed) send(e);
        const replayedUpTo = missed?.at(-1)?.id ?? lastId;
        const live = held ?? [];
        held = null;
        for (const e of live) if (e.id > replayedUpTo) send(e);
      }
      const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
      const end = () => res.end();
      streams.add(end);
      // Ends within a second of the token being revoked (here or on another replica).
      const untrack = app.streams.track(principal, end);
      res.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(end);
        untrack();
      });
    },
  );
};
