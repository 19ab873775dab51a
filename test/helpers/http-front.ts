import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP front for a git server (serveGitHttp) on its own origin, whose behaviour a test
 * switches: `pass` forwards every request as it is; `v0` forwards without the `Git-Protocol`
 * header (a server that only speaks protocol v0/v1); `redirect` answers every request with a 302
 * to `redirectTo` + the same path. With `failNodeFetch`, a protocol-v2 `command=fetch` request
 * from Syncline's own client (not git's) is answered 500 (the client must fall back to git). Records what it received (the Authorization header is kept
 * for assertions, never printed).
 */
export interface HttpFront {
  url: string;
  repoUrl(name: string): string;
  mode: 'pass' | 'v0' | 'redirect';
  redirectTo: string;
  failNodeFetch: boolean;
  requests: Array<{ method: string; url: string; authorization: string | undefined; gitProtocol: string | undefined }>;
  close(): Promise<void>;
}

export async function startHttpFront(backend: string): Promise<HttpFront> {
  const target = new URL(backend);
  const front: HttpFront = {
    url: '',
    repoUrl: (name) => `${front.url}/${name}.git`,
    mode: 'pass',
    redirectTo: '',
    failNodeFetch: false,
    requests: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    front.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      gitProtocol: req.headers['git-protocol'] as string | undefined,
    });
    if (front.mode === 'redirect') {
      res.writeHead(302, { location: `${front.redirectTo}${req.url ?? '/'}` });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const ours = String(req.headers['user-agent'] ?? '').includes('syncline');
      if (front.failNodeFetch && ours && body.includes('command=fetch')) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('fetch refused by the test front\n');
        return;
      }
      const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host };
      if (front.mode === 'v0') delete headers['git-protocol'];
      const out = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}
