/**
 * A fake forge API (GitHub `/api/v3`, Gitea `/api/v1`, GitLab `/api/v4`) as a real local HTTP
 * server: it verifies GitHub App JWTs with the app's public key, issues installation tokens (the
 * token the test git server accepts), records every request, and can answer rate-limited 403s,
 * 429s or 5xx on demand. Shapes follow the forges' documented responses (the fields Syncline reads).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForgeRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export interface Fault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeForge {
  url: string;
  requests: ForgeRequest[];
  /** The next `n` requests (matching `match`, default any) get `fault`. */
  failNext(n: number, fault: Fault, match?: (r: ForgeRequest) => boolean): void;
  /** Air-gap checks: every request fails the test (recorded, answered 599). */
  refuseAll: boolean;
  appId: string;
  privateKey: string;
  installationId: number;
  /** Tokens minted so far. */
  minted: string[];
  close(): Promise<void>;
}

function b64url(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

function verifyJwt(token: string, publicKey: crypto.KeyObject, appId: string): boolean {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) return false;
  const ok = crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  if (!ok) return false;
  const payload = JSON.parse(Buffer.from(p.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  const now = Math.floor(Date.now() / 1000);
  return String(payload.iss) === appId && payload.exp > now && payload.iat <= now + 60;
}

export async function startFakeForge(opts: { installationToken: string; installationId?: number; appId?: string }): Promise<FakeForge> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const requests: ForgeRequest[] = [];
  const faults: { left: number; fault: Fault; match: (r: ForgeRequest) => boolean }[] = [];
  let checkRunId = 1000;
  const forge: FakeForge = {
    url: '',
    requests,
    refuseAll: false,
    appId: opts.appId ?? '4242',
    privateKey: pem,
    installationId: opts.installationId ?? 77,
    minted: [],
    failNext(n, fault, match = () => true) {
      faults.push({ left: n, fault, match });
    },
    close: async () => undefined,
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      const r: ForgeRequest = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body };
      requests.push(r);
      const send = (status: number, data?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(data === undefined ? '' : JSON.stringify(data));
      };
      if (forge.refuseAll) return send(599, { message: 'no forge calls expected' });
      const f = faults.find((x) => x.left > 0 && x.match(r));
      if (f) {
        f.left--;
        return send(f.fault.status, f.fault.body ?? { message: 'fault' }, f.fault.headers);
      }
      const auth = String(req.headers.authorization ?? '');
      const bearerJwt = /^bearer (.+)$/i.exec(auth)?.[1];
      const tokenOk = auth === `token ${opts.installationToken}` || auth === `bearer ${opts.installationToken}` || auth === `Bearer ${opts.installationToken}`;
      const p = url.pathname;
      let m: RegExpExecArray | null;

      // GitHub App
      if ((m = /^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/.exec(p)) && r.method === 'POST') {
        if (!bearerJwt || !verifyJwt(bearerJwt, publicKey, forge.appId)) return send(401, { message: 'A JSON web token could not be decoded' });
        if (Number(m[1]) !== forge.installationId) return send(404, { message: 'Not Found' });
        forge.minted.push(opts.installationToken);
        return send(201, {
          token: opts.installationToken,
          expires_at: new Date(Date.now() + 3600_000).toISOString(),
          permissions: { checks: 'write', contents: 'read', metadata: 'read', statuses: 'write', pull_requests: 'read' },
          repository_selection: 'all',
        });
      }
      if ((m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(p))) {
        if (!bearerJwt || !verifyJwt(bearerJwt, publicKey, forge.appId)) return send(401, { message: 'A JSON web token could not be decoded' });
        return send(200, { id: forge.installationId, app_id: Number(forge.appId), account: { login: m[1] } });
      }
      // GitHub checks and statuses
      if ((m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/check-runs$/.exec(p)) && r.method === 'POST') {
        if (!tokenOk) return send(401, { message: 'Bad credentials' });
        return send(201, { id: ++checkRunId, name: body?.name, head_sha: body?.head_sha, status: body?.status });
      }
      if ((m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/.exec(p)) && r.method === 'PATCH') {
        if (!tokenOk) return send(401, { message: 'Bad credentials' });
        return send(200, { id: Number(m[3]), status: body?.status ?? 'completed', conclusion: body?.conclusion ?? null });
      }
      if ((m = /^\/api\/(v3|v1)\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(p)) && r.method === 'POST') {
        if (!tokenOk) return send(401, { message: 'Bad credentials' });
        return send(201, { id: 1, state: body?.state, context: body?.context, target_url: body?.target_url ?? null });
      }
      if ((m = /^\/api\/(v3|v1)\/repos\/([^/]+)\/([^/]+)$/.exec(p)) && r.method === 'GET') {
        if (!tokenOk) return send(404, { message: 'Not Found' });
        return send(200, { full_name: `${m[2]}/${m[3]}`, private: true, permissions: { admin: false, push: false, pull: true } });
      }
      // GitLab
      if ((m = /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(p)) && r.method === 'POST') {
        if (req.headers['private-token'] !== opts.installationToken) return send(401, { message: '401 Unauthorized' });
        return send(201, { id: 1, status: body?.state, name: body?.name });
      }
      if ((m = /^\/api\/v4\/projects\/([^/]+)$/.exec(p)) && r.method === 'GET') {
        if (req.headers['private-token'] !== opts.installationToken) return send(404, { message: '404 Project Not Found' });
        return send(200, { id: 9, path_with_namespace: decodeURIComponent(m[1]!), visibility: 'private', permissions: { project_access: { access_level: 20 }, group_access: null } });
      }
      send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  forge.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  forge.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return forge;
}
