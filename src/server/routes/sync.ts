import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { driftNamespace, planNamespace, syncNamespace } from '../../sync/service.js';
import { errorBody, errorResponses } from '../../contracts/errors.js';
import { nsParams } from '../../contracts/common.js';
import { deployment, driftReport, refBody, resultItem, syncBody, type Deployment } from '../../contracts/deployments.js';
import { z } from 'zod';
import { storedPlan } from '../../contracts/plans.js';
import { storePlan } from '../../sync/plans.js';
import { appliedResultsJson } from '../../sync/apply.js';

const resultItems = z.array(resultItem);
const RESULTS_SLICE = 500;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * What the route's response serializer makes of a deployment (zod parse, then JSON.stringify:
 * the same bytes, same key order), as parts: the results parsed and stringified RESULTS_SLICE at
 * a time, giving the event loop a turn in between (a 10,000-result deployment took ~140 ms of
 * serialisation in one piece; health checks and config reads waited behind it). The route sends
 * the parts as a stream: joined into one ~5 MB string, then measured and encoded for the socket
 * in one go, they held the event loop again for 50–160 ms here.
 */
export async function deploymentJsonParts(d: Deployment, between: () => Promise<void> = nextTurn, slice = RESULTS_SLICE): Promise<string[]> {
  const head = deployment.parse({ ...d, results: [] });
  const results = await resultsJsonParts(d.results, between, slice);
  const out: string[] = [];
  for (const [key, value] of Object.entries(head)) {
    const lead = `${out.length ? ',' : '{'}${JSON.stringify(key)}:`;
    if (key === 'results') {
      out.push(lead, ...results);
      continue;
    }
    const json = JSON.stringify(value) as string | undefined;
    if (json !== undefined) out.push(lead + json);
  }
  out.push(out.length ? '}' : '{}');
  return out;
}

/** `deploymentJsonParts`, joined. */
export async function deploymentJson(d: Deployment, between: () => Promise<void> = nextTurn, slice = RESULTS_SLICE): Promise<string> {
  return (await deploymentJsonParts(d, between, slice)).join('');
}

const resultsJsonOf = new WeakMap<readonly unknown[], readonly string[]>();

/**
 * The results through the schema as JSON parts, in slices; kept per array when it is frozen (the
 * results of a plan a no-change sync reused, see sync/results.ts appliedItems: the same array
 * every time).
 */
async function resultsJsonParts(items: Deployment['results'], between: () => Promise<void>, slice: number): Promise<readonly string[]> {
  const kept = resultsJsonOf.get(items);
  if (kept !== undefined) return kept;
  // An applied deployment's results: the apply already made this text for the record (the
  // items are the schema's, key for key: test/unit/server/deployment-json.test.ts).
  const applied = appliedResultsJson(items);
  if (applied) {
    const text = await applied;
    resultsJsonOf.set(items, text);
    return text;
  }
  const parts: string[] = ['['];
  for (let i = 0; i < items.length; i += slice) {
    if (i > 0) {
      await between();
      parts.push(',');
    }
    parts.push(JSON.stringify(resultItems.parse(items.slice(i, i + slice))).slice(1, -1));
  }
  parts.push(']');
  if (Object.isFrozen(items)) resultsJsonOf.set(items, parts);
  return parts;
}

/** Git-driven endpoints of a namespace: sync, plan, drift. */
export const syncRoutes: FastifyPluginAsyncZod = async (app) => {
  const scoped = { namespaceParam: 'ns' };
  const tags = ['sync'];
  const gitErrors = { 409: errorBody, 413: errorBody, 422: errorBody, 502: errorBody, ...errorResponses };

  app.post(
    '/:ns/sync-from-git',
    {
      onRequest: app.requireRole('deployer', scoped),
      schema: { tags, params: nsParams, body: syncBody.nullish(), response: { 200: deployment, ...gitErrors } },
    },
    async (req, reply) => {
      const d = await syncNamespace(app.ctx, req.params.ns, req.body?.ref, req.principal!.name, req.body?.reason ? { reason: req.body.reason } : {});
      // Serialised through the response schema here, in slices, and sent part by part (a stream
      // skips the serializer); the length is known, so no chunked encoding.
      const parts = await deploymentJsonParts(d);
      let length = 0;
      for (const part of parts) length += Buffer.byteLength(part);
      return reply
        .type('application/json; charset=utf-8')
        .header('content-length', length)
        // Object mode: each part is written as it is (a byte stream would buffer the parts and
        // copy them together again in its reads).
        .send(Readable.from(parts) as never);
    },
  );

  app.post(
    '/:ns/plan',
    {
      onRequest: app.requireRole('viewer', scoped),
      schema: { tags, params: nsParams, body: refBody.nullish(), response: { 200: storedPlan, ...gitErrors } },
    },
    // Stored (trigger "api") so GET /plans/{id} can show it again; the answer is the stored plan.
    async (req) => storePlan(app.ctx, await planNamespace(app.ctx, req.params.ns, req.body?.ref), 'api', null),
  );

  app.get(
    '/:ns/drift',
    { onRequest: app.requireRole('viewer', scoped), schema: { tags, params: nsParams, response: { 200: driftReport, ...gitErrors } } },
    async (req) => driftNamespace(app.ctx, req.params.ns),
  );
};
