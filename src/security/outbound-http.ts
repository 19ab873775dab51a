/**
 * Guarded outbound HTTP for forge API calls and outbound webhooks: the same rules as git sources
 * (security/url-guard.ts), applied at the connection itself.
 *
 *  - `GuardedHttpAgent` / `GuardedHttpsAgent`: their `lookup` resolves the name with the guard's
 *    resolver, refuses it when ANY address is blocked, and hands the socket exactly the checked
 *    addresses (no second resolution, so DNS rebinding cannot slip in); an IP-literal host, which
 *    never reaches `lookup`, is checked in `createConnection`.
 *  - `guardedFetch`: a `fetch` over those agents (for Octokit's `request.fetch` and webhook
 *    senders). URLs with userinfo, backslashes, whitespace or control characters are refused,
 *    and redirects are never followed: a 3xx comes back as it is (`redirect: "manual"`
 *    semantics), so a credential header can't be carried to another host.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import dns from 'node:dns';
import { Readable } from 'node:stream';
import { SynclineError } from '../errors.js';
import { hostAllowListed, isBlockedAddress, pickAllowed, resolveHost, type GuardOptions } from './url-guard.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
export type GuardedLookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/** A `net`/`http` lookup that refuses names resolving to any blocked address. */
export function guardedLookup(guard: GuardOptions): GuardedLookup {
  return (hostname, options, callback) => {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const answer = (addresses: string[]): void => {
      if (options?.all) callback(null, addresses.map((address) => ({ address, family: net.isIP(address) })));
      else callback(null, addresses[0]!, net.isIP(addresses[0]!));
    };
    if (hostAllowListed(host, guard.allowedHosts)) {
      dns.lookup(host, { all: true, verbatim: true }, (err, rows) => (err ? callback(err, '') : answer(rows.map((r) => r.address))));
      return;
    }
    resolveHost(host, guard.lookup)
      .then((addresses) => {
        pickAllowed(host, addresses, guard.allowedHosts);
        answer(addresses);
      })
      .catch((err: Error) => callback(Object.assign(err, { code: (err as SynclineError).code ?? 'ENOTFOUND' }), ''));
  };
}

/** Refuses an IP-literal host in a blocked range (lookup is never called for those). */
function literalRefusal(host: string | null | undefined, guard: GuardOptions): Error | null {
  const h = (host ?? '').replace(/^\[|\]$/g, '');
  if (!net.isIP(h) || hostAllowListed(h, guard.allowedHosts) || !isBlockedAddress(h)) return null;
  return new SynclineError('host_not_allowed', `Address ${h} is loopback, private, link-local, reserved or metadata; add it to SYNCLINE_ALLOWED_HOSTS to allow it`, {
    host: h,
  });
}

type CreateConnection = (options: http.ClientRequestArgs, cb: (err: Error | null, socket?: net.Socket) => void) => net.Socket | undefined;

export class GuardedHttpAgent extends http.Agent {
  constructor(
    readonly guard: GuardOptions,
    opts: http.AgentOptions = {},
  ) {
    super({ keepAlive: true, ...opts, lookup: guardedLookup(guard) } as http.AgentOptions);
  }
}
export class GuardedHttpsAgent extends https.Agent {
  constructor(
    readonly guard: GuardOptions,
    opts: https.AgentOptions = {},
  ) {
    super({ keepAlive: true, ...opts, lookup: guardedLookup(guard) } as https.AgentOptions);
  }
}
for (const Agent of [GuardedHttpAgent, GuardedHttpsAgent]) {
  const base = (Agent === GuardedHttpAgent ? http.Agent : https.Agent).prototype as unknown as { createConnection: CreateConnection };
  (Agent.prototype as unknown as { createConnection: CreateConnection }).createConnection = function (
    this: GuardedHttpAgent | GuardedHttpsAgent,
    options,
    cb,
  ) {
    const refusal = literalRefusal(options.host ?? options.hostname, this.guard);
    if (refusal) {
      cb(refusal);
      return undefined;
    }
    return base.createConnection.call(this, options, cb);
  };
}

export interface GuardedAgents {
  http: GuardedHttpAgent;
  https: GuardedHttpsAgent;
}

export function createGuardedAgents(guard: GuardOptions): GuardedAgents {
  return { http: new GuardedHttpAgent(guard), https: new GuardedHttpsAgent(guard) };
}

const FORBIDDEN_URL_CHARS = /[\s\x00-\x1f\x7f\\]/;

export interface GuardedFetchOptions {
  /** Whole-request deadline when the caller gives no signal. Default 30 s. */
  timeoutMs?: number;
  agents?: GuardedAgents;
}

/**
 * A `fetch` whose connections go through the guarded agents. Redirects are not followed.
 * Usable as Octokit's `request.fetch`.
 */
export function guardedFetch(guard: GuardOptions, opts: GuardedFetchOptions = {}): typeof fetch {
  const agents = opts.agents ?? createGuardedAgents(guard);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (FORBIDDEN_URL_CHARS.test(raw)) throw new SynclineError('invalid_url', 'Outbound URL contains whitespace, control characters or backslashes');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new SynclineError('invalid_url', 'Outbound URL is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new SynclineError('invalid_url', `Outbound URL scheme '${url.protocol}' is not allowed`);
    if (url.username || url.password) throw new SynclineError('invalid_url', 'Outbound URL must not embed credentials');
    const request = new Request(input, init);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => (headers[k] = v));
    const signal = init?.signal ?? AbortSignal.timeout(timeoutMs);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = mod.request(
        url,
        { method: request.method, headers, agent: url.protocol === 'https:' ? agents.https : agents.http, signal },
        (res) => {
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const one of v) out.append(k, one);
            else if (v !== undefined) out.set(k, v);
          }
          const status = res.statusCode ?? 502;
          const noBody = request.method === 'HEAD' || status === 204 || status === 304 || status < 200;
          if (noBody) res.resume();
          resolve(
            new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status: status < 200 ? 502 : status,
              statusText: res.statusMessage ?? '',
              headers: out,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
  return impl as typeof fetch;
}
