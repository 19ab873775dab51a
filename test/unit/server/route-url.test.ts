import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { routeUrl } from '../../../src/server/metrics.js';

describe('routeUrl (the metrics label)', () => {
  it('is request.routeOptions.url: the template of the matched route, undefined when none matched', async () => {
    const app = Fastify();
    const seen: Array<[string | undefined, string | undefined]> = [];
    app.addHook('onResponse', (req, _reply, done) => {
      seen.push([routeUrl(req), req.routeOptions.url]);
      done();
    });
    app.get('/a/:id', async () => ({}));
    await app.register(async (sub) => void sub.get('/b/*', async () => 'x'), { prefix: '/p' });
    for (const url of ['/a/1', '/p/b/c/d', '/nowhere', '/a/2?x=1']) await app.inject({ url });
    await app.close();
    expect(seen.map(([mine]) => mine)).toEqual(['/a/:id', '/p/b/*', undefined, '/a/:id']);
    for (const [mine, theirs] of seen) expect(mine).toBe(theirs);
  });
});
