import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { getNamespaceRow } from '../../store/namespaces.js';
import { getResource, listResources, type LiveResource } from '../../store/resources.js';
import { patchResource } from '../../sync/patch-resource.js';
import type { JsonObject } from '../../contracts/json.js';
import { errorBody, errorResponses } from '../../contracts/errors.js';
import { nsParams } from '../../contracts/common.js';
import { resource, resourceList, resourceParams, resourcePatchBody, type Resource } from '../../contracts/resources.js';
import { z } from 'zod';
import { ALL_KEYS } from '../../cache/invalidation.js';
import { KeyedCache } from '../../cache/keyed-cache.js';

/**
 * Longest a cached resource is served without asking the database again. Writes in this process
 * invalidate at once (the 'resources' topic, keyed by namespace); this bounds how stale another
 * replica's cache can be when its invalidation does not arrive.
 */
export const RESOURCE_CACHE_MS = 1000;
/** A cached resource at least this old is reloaded in the background (still answered from the cache). */
export const RESOURCE_REFRESH_MS = 500;

/** A live resource as the API returns it: the ETag and the JSON body, serialised once. */
interface CachedResource {
  etag: string;
  body: string;
}

function toResource(r: LiveResource): Resource {
  return {
    kind: r.kind,
    name: r.name,
    spec: r.spec,
    metadata: r.metadata,
    commit: r.commit,
    hash: r.hash,
    managed_fields: r.managed_fields,
    file: r.file,
    updated_at: r.updated_at,
  };
}

/** Strong validator: the content hash identifies the exact bytes of spec + metadata. */
const etagOf = (hash: string) => `"${hash}"`;

/** If-None-Match compares weakly (RFC 9110 §13.1.2): `W/"x"`, as a proxy may send it, matches `"x"`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** The live configuration applications read. */
export const resourceRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.ctx.db.db;
  const tags = ['resources'];
  const scoped = { namespaceParam: 'ns' };

  app.get(
    '/:ns/resources',
    { onRequest: app.requireRole('viewer', scoped), schema: { tags, params: nsParams, response: { 200: resourceList, ...errorResponses } } },
    async (req) => {
      await getNamespaceRow(db, req.params.ns);
      return { items: (await listResources(db, req.params.ns)).map(toResource) };
    },
  );

  // What applications read all day: the serialised body, cached per namespace until a write to
  // that namespace's resources commits (sync apply, PATCH, namespace delete all invalidate).
  const cache = new KeyedCache<CachedResource>({ maxAgeMs: RESOURCE_CACHE_MS, maxEntries: 200_000 });
  const off = app.ctx.cache.subscribe('resources', (ns) => (ns === ALL_KEYS ? cache.clear() : cache.invalidate(ns)));
  app.addHook('onClose', async () => off());
  const loadResource = async (ns: string, kind: string, name: string): Promise<CachedResource> => {
    const r = await getResource(db, ns, kind, name);
    // What the route's response serializer would do (zod parse, then JSON.stringify), done once.
    return { etag: etagOf(r.hash), body: JSON.stringify(resource.parse(toResource(r))) };
  };
  const readResource = (ns: string, kind: string, name: string): Promise<CachedResource> =>
    cache.getOrLoad(ns, `${kind}\u0000${name}`, () => loadResource(ns, kind, name));

  const send = (req: { headers: { 'if-none-match'?: string | undefined } }, reply: FastifyReply, r: CachedResource): void => {
    reply.header('etag', r.etag).header('cache-control', 'no-cache');
    if (matchesEtag(req.headers['if-none-match'], r.etag)) reply.status(304).send(undefined as never); // a 304 has no body (not even `null`)
    // Already serialised through the response schema; a JSON string is sent as it is.
    else reply.type('application/json; charset=utf-8').send(r.body as never);
  };

  app.get(
    '/:ns/resources/:kind/:name',
    {
      onRequest: app.requireRole('viewer', scoped),
      schema: { tags, params: resourceParams, response: { 200: resource, 304: z.null(), ...errorResponses } },
    },
    // Not an async handler: a cached resource is answered synchronously (no promise to settle).
    (req, reply) => {
      const { ns, kind, name } = req.params;
      const key = `${kind}\u0000${name}`;
      // Reloaded in the background once RESOURCE_REFRESH_MS old: a resource in use never waits for
      // the database (on SQLite a sync's transaction holds the one connection).
      const hit = cache.peek(ns, key, RESOURCE_REFRESH_MS, () => loadResource(ns, kind, name));
      if (hit) return void send(req, reply, hit);
      readResource(ns, kind, name).then(
        (r) => send(req, reply, r),
        (err: unknown) => void reply.send(err as never),
      );
    },
  );

  app.patch(
    '/:ns/resources/:kind/:name',
    {
      onRequest: app.requireRole('admin', scoped),
      schema: { tags, params: resourceParams, body: resourcePatchBody, response: { 200: resource, 409: errorBody, 422: errorBody, ...errorResponses } },
    },
    async (req, reply) => {
      const { ns, kind, name } = req.params;
      const r = await patchResource(app.ctx, { namespace: ns, kind, name }, req.body.spec as JsonObject, req.principal!.name);
      reply.header('etag', etagOf(r.hash));
      return toResource(r);
    },
  );
};
