/**
 * The guarded agent (forge API calls, outbound webhooks): its lookup applies the URL guard to
 * every address and hands the socket exactly the checked ones; IP literals are checked when the
 * connection is made; redirects come back unfollowed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedFetch } from '../../../src/security/outbound-http.js';

describe('guardedFetch', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://elsewhere.test/' });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, auth: req.headers.authorization ?? null }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('refuses a name resolving to loopback, and an IP literal in a blocked range, without connecting', async () => {
    const before = hits;
    const fetchIt = guardedFetch({ allowedHosts: [], allowFileSources: false, lookup: async () => ['127.0.0.1'] });
    await expect(fetchIt(`http://api.rebind.test:${port}/x`)).rejects.toThrow();
    await expect(fetchIt(`http://127.0.0.1:${port}/x`)).rejects.toThrow();
    await expect(fetchIt(`http://[::ffff:127.0.0.1]:${port}/x`)).rejects.toThrow();
    // A resolver answer mixing public and private addresses is refused as a whole.
    const mixed = guardedFetch({ allowedHosts: [], allowFileSources: false, lookup: async () => ['140.82.121.4', '10.0.0.1'] });
    await expect(mixed(`http://api.mixed.test:${port}/x`)).rejects.toThrow();
    expect(hits).toBe(before);
  });

  it('connects to the checked address when allowed, and never follows a redirect', async () => {
    const fetchIt = guardedFetch({ allowedHosts: ['127.0.0.1'], allowFileSources: false, lookup: async () => ['127.0.0.1'] });
    const res = await fetchIt(`http://api.pinned.test:${port}/x`, { headers: { authorization: 'token abc' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, auth: 'token abc' });
    const redirect = await fetchIt(`http://api.pinned.test:${port}/redirect`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('http://elsewhere.test/');
  });

  it('refuses userinfo and odd characters in the URL', async () => {
    const fetchIt = guardedFetch({ allowedHosts: ['127.0.0.1'], allowFileSources: false });
    await expect(fetchIt(`http://u:p@127.0.0.1:${port}/x`)).rejects.toMatchObject({ code: 'invalid_url' });
    await expect(fetchIt(`http://127.0.0.1:${port}\\@evil.test/x`)).rejects.toMatchObject({ code: 'invalid_url' });
  });
});
