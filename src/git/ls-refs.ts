/**
 * Asks an HTTP(S) remote for its branches and tags with ONE request, from Node: git protocol v2's
 * `ls-refs` command over smart HTTP (`POST <url>/git-upload-pack`, `Git-Protocol: version=2`), on
 * a keep-alive connection. The mirror cache uses it to skip `git fetch` (a process, three HTTP
 * requests) when no branch or tag moved.
 *
 * The request obeys the same rules as git's own connections (env.ts, remote.ts):
 *  - it connects only to the address the outbound guard checked (`pin`), never resolving the name
 *    again; without a pin (IP literal, allow-listed host) it resolves like git would;
 *  - credentials go in an `Authorization` header on this one request, whose origin is the source
 *    URL's own (the header is never sent anywhere else); they are never logged or put in an error;
 *  - redirects are not followed, nothing is read from the environment (no proxies).
 *
 * Anything unexpected (a non-200 answer, a server without protocol v2, a malformed or oversized
 * answer, a connection error) returns null: the caller then runs `git fetch` as before, whose
 * failure is classified the usual way (auth_failed, repo_not_found, redirect…). Only a timeout or
 * an abort throws (a GitError, as `git fetch` would), so a hung server is not waited for twice.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { basicCredentials, httpOrigin, type GitAuth } from './auth.js';
import { GitError } from './git-error.js';
import type { RemotePin } from './remote.js';

const OID_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** An answer larger than this is not worth parsing here (hundreds of thousands of refs): let git fetch. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Idle keep-alive connections are closed after this long. */
const FREE_SOCKET_MS = 30_000;
const MAX_AGENTS = 64;

export interface LsRefsOptions {
  /** Only refs under these prefixes are asked for and returned. Default: branches and tags. */
  prefixes?: readonly string[];
  /** No byte received for this long: timeout (reason `idle_timeout`). Default 60 s. */
  idleMs?: number;
  /** Whole-request cap (reason `timeout`). Default 120 s. */
  totalMs?: number;
  signal?: AbortSignal | undefined;
}

/** One keep-alive agent per (scheme, checked address): a socket is only ever reused for the address it was opened to. */
const agents = new Map<string, http.Agent>();

function agentFor(protocol: 'http:' | 'https:', pin: RemotePin | null | undefined): http.Agent {
  const key = `${protocol}|${pin ? `${pin.host}:${pin.port}@${pin.address}` : '-'}`;
  let agent = agents.get(key);
  if (agent) {
    // Most recently used last, so the oldest is evicted first.
    agents.delete(key);
    agents.set(key, agent);
    return agent;
  }
  const options: http.AgentOptions = {
    keepAlive: true,
    maxSockets: 8,
    maxFreeSockets: 2,
    // Applies to idle pooled sockets too: the agent destroys a free socket that times out.
    timeout: FREE_SOCKET_MS,
    scheduling: 'lifo',
    ...(pin ? { lookup: pinnedLookup(pin) } : {}),
  };
  agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  agents.set(key, agent);
  if (agents.size > MAX_AGENTS) {
    const [oldest, old] = agents.entries().next().value as [string, http.Agent];
    agents.delete(oldest);
    old.destroy();
  }
  return agent;
}

/** A lookup that answers every name with the checked address (the connection is pinned to it). */
function pinnedLookup(pin: RemotePin): NonNullable<http.AgentOptions['lookup']> {
  const family = net.isIP(pin.address);
  return ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
    opts?.all ? cb(null, [{ address: pin.address, family }]) : cb(null, pin.address, family)) as never;
}

/** Closes every pooled connection (shutdown, tests). */
export function closeLsRefsAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

function pkt(line: string): Buffer {
  const body = Buffer.from(line, 'utf8');
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0'), 'ascii'), body]);
}

/** The request body: `command=ls-refs`, delimiter, one `ref-prefix` per prefix, flush. */
export function lsRefsRequestBody(prefixes: readonly string[]): Buffer {
  return Buffer.concat([
    pkt('command=ls-refs\n'),
    Buffer.from('0001', 'ascii'),
    ...prefixes.map((p) => pkt(`ref-prefix ${p}\n`)),
    Buffer.from('0000', 'ascii'),
  ]);
}

/**
 * Parses an ls-refs answer: pkt-lines `<oid> <refname>[ <attribute>…]` up to a flush packet.
 * Returns null for anything else (an `ERR` line, a v0 advertisement, truncation, junk).
 */
export function parseLsRefsResponse(body: Buffer, prefixes: readonly string[]): Map<string, string> | null {
  const refs = new Map<string, string>();
  let at = 0;
  while (at + 4 <= body.length) {
    const lenText = body.toString('ascii', at, at + 4);
    if (!/^[0-9a-f]{4}$/.test(lenText)) return null;
    const len = parseInt(lenText, 16);
    // Flush: the end of the answer (a response-end packet may follow on stateless connections).
    if (len === 0) return at + 4 === body.length || body.subarray(at + 4).toString('ascii') === '0002' ? refs : null;
    if (len < 4 || at + len > body.length) return null; // delimiter/response-end or truncated
    const line = body.toString('utf8', at + 4, at + len).replace(/\n$/, '');
    at += len;
    const [oid, name] = line.split(' ', 2);
    if (!oid || !name || !OID_RE.test(oid)) return null;
    if (prefixes.some((p) => name.startsWith(p))) refs.set(name, oid);
  }
  return null; // no flush packet: truncated
}

/**
 * The remote's refs under `prefixes` (full name → object id, tags unpeeled), or null when the
 * remote cannot answer this way (see the file comment). Throws GitError `timeout`,
 * `idle_timeout` or `aborted`.
 */
export async function lsRefsHttp(
  url: string,
  auth: GitAuth | undefined,
  pin: RemotePin | null | undefined,
  opts: LsRefsOptions = {},
): Promise<Map<string, string> | null> {
  const origin = httpOrigin(url);
  if (!origin) return null;
  let target: URL;
  try {
    target = new URL(`${url.replace(/\/+$/, '')}/git-upload-pack`);
  } catch {
    return null;
  }
  // The same URL git would POST to, on the same origin as the source URL (credentials are scoped to it).
  if (httpOrigin(target.href) !== origin || target.username || target.password || target.search || target.hash) return null;
  const protocol = target.protocol as 'http:' | 'https:';
  const prefixes = opts.prefixes ?? ['refs/heads/', 'refs/tags/'];
  const body = lsRefsRequestBody(prefixes);
  const creds = basicCredentials(auth);
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-git-upload-pack-request',
    Accept: 'application/x-git-upload-pack-result',
    'Git-Protocol': 'version=2',
    'User-Agent': 'git/2 (syncline)',
    'Content-Length': String(body.length),
    ...(creds ? { Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` } : {}),
  };
  const idleMs = opts.idleMs ?? 60_000;
  const totalMs = opts.totalMs ?? 120_000;
  const args = ['ls-refs'];

  const once = (): Promise<Map<string, string> | null | 'retry'> =>
    new Promise((resolve, reject) => {
      let settled = false;
      const finish = (value: Map<string, string> | null | 'retry', err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(totalTimer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value);
      };
      const fail = (reason: 'timeout' | 'idle_timeout' | 'aborted', detail: string): void => {
        finish(null, new GitError(reason, args, null, '', detail));
        req.destroy();
      };
      const req = (protocol === 'https:' ? https : http).request(
        target,
        { method: 'POST', headers, agent: agentFor(protocol, pin) },
        (res) => {
          const type = String(res.headers['content-type'] ?? '');
          if (res.statusCode !== 200 || !type.startsWith('application/x-git-upload-pack-result')) {
            res.resume();
            return finish(null);
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              finish(null);
              req.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => finish(parseLsRefsResponse(Buffer.concat(chunks), prefixes)));
          res.on('error', () => finish(null));
          res.on('aborted', () => finish(null));
        },
      );
      // Socket inactivity (connecting, waiting for the answer, mid-body).
      req.setTimeout(idleMs, () => fail('idle_timeout', `no answer for ${idleMs} ms`));
      const totalTimer = setTimeout(() => fail('timeout', `still running after ${totalMs} ms`), totalMs);
      const onAbort = (): void => fail('aborted', 'aborted');
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A pooled connection the server closed while idle: ask once more on a fresh one.
        if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return finish('retry');
        // Connection refused, reset, TLS failure…: git fetch will say what it is.
        finish(null);
      });
      req.end(body);
    });

  const first = await once();
  if (first !== 'retry') return first;
  const second = await once();
  return second === 'retry' ? null : second;
}
