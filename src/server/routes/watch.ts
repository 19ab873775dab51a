import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { getNamespaceRow } from '../../store/namespaces.js';
import { errorResponses } from '../../contracts/errors.js';
import { nsParams } from '../../contracts/common.js';

const HEARTBEAT_MS = 15_000;

/** Each event's JSON, made once however many watchers send it. */
const eventJson = new WeakMap<object, string>();
function jsonOf(e: object): string {
  let text = eventJson.get(e);
  if (text === undefined) eventJson.set(e, (text = JSON.stringify(e)));
  return text;
}

/**
 * Server-Sent Events: one `resource` event per changed resource after each deployment or patch.
 * A comment line every 15 s keeps proxies from closing an idle stream.
 */
export const watchRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/:ns/watch',
    {
      onRequest: app.requireRole('viewer', { namespaceParam: 'ns' }),
      schema: {
        tags: ['resources'],
        params: nsParams,
        description: 'Server-Sent Events stream (`text/event-stream`) of `resource` events for this namespace.',
        response: errorResponses,
      },
    },
    async (req, reply) => {
      await getNamespaceRow(app.ctx.db.db, req.params.ns);
      await app.ctx.events.start(); // follows the outbox before the stream opens: nothing after it is missed
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': req.id,
      });
      res.write(`: watching ${req.params.ns}\n\n`);
      let seq = 0;
      // One write per batch (a deployment's events), each event's JSON made once for all watchers.
      const unsubscribe = app.ctx.events.subscribe(req.params.ns, (events) => {
        let text = '';
        for (const e of events) {
          seq += 1;
          text += `id: ${seq}\nevent: resource\ndata: ${jsonOf(e)}\n\n`;
        }
        res.write(text);
      });
      const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
      // Ends on shutdown and within a second of the token being revoked.
      const untrack = app.streams.track(req.principal!, () => res.end());
      res.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        untrack();
      });
    },
  );
};
