/**
 * Git protocol v2 over smart HTTP from Node (`POST <url>/git-upload-pack`, `Git-Protocol:
 * version=2`), on keep-alive connections, for the two things a sync's fetch needs:
 *  - `lsRefsHttp`: the remote's branches and tags in ONE request (`ls-refs`). The mirror cache
 *    uses it to skip `git fetch` (a process, three HTTP requests) when no branch or tag moved;
 *  - `fetchPackHttp`: the objects of the refs that moved in ONE request (`fetch` with `done`),
 *    streamed into `git unpack-objects --strict` or `git index-pack --strict` (the one process).
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
import { join } from 'node:path';
import { GitError } from './git-error.js';
import { spawnGit, type GitProcess } from './runner.js';
import type { RemotePin } from './remote.js';

const OID_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** An answer larger than this is not worth parsing here (hundreds of thousands of refs): let git fetch. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Idle keep-alive connections are closed after this long. */
const FREE_SOCKET_MS = 30_000;
const MAX_AGENTS = 64;

export interface SmartHttpOptions {
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

/** Why a request could not be used: the caller falls back to git. */
class Unusable extends Error {}

/**
 * One POST of `body` to `<url>/git-upload-pack`; `consume` reads the (200, upload-pack result)
 * answer. Null when the remote cannot be asked this way or `consume` threw Unusable; GitError
 * `timeout` / `idle_timeout` / `aborted` for timeouts and aborts (also while `consume` reads).
 */
async function uploadPack<T>(
  url: string,
  auth: GitAuth | undefined,
  pin: RemotePin | null | undefined,
  body: Buffer,
  command: string,
  opts: SmartHttpOptions,
  consume: (res: http.IncomingMessage, req: http.ClientRequest) => Promise<T>,
): Promise<T | null> {
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
  // The pin is for this URL's host and port only (the agent answers every lookup with its address).
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  if (pin && (pin.host.toLowerCase() !== target.hostname.toLowerCase() || pin.port !== port)) return null;
  const protocol = target.protocol as 'http:' | 'https:';
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
  const args = [command];

  const once = (): Promise<T | null | 'retry'> =>
    new Promise((resolve, reject) => {
      let settled = false;
      const finish = (value: T | null | 'retry', err?: Error): void => {
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
      let answered = false;
      const req = (protocol === 'https:' ? https : http).request(
        target,
        { method: 'POST', headers, agent: agentFor(protocol, pin) },
        (res) => {
          answered = true;
          const type = String(res.headers['content-type'] ?? '');
          if (res.statusCode !== 200 || !type.startsWith('application/x-git-upload-pack-result')) {
            res.resume();
            return finish(null);
          }
          consume(res, req).then(
            (value) => finish(value),
            (err: unknown) => {
              if (!(err instanceof Unusable)) req.destroy();
              finish(null);
            },
          );
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
        if (!answered && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return finish('retry');
        // Connection refused, reset, TLS failure…: git will say what it is.
        finish(null);
      });
      req.end(body);
    });

  const first = await once();
  if (first !== 'retry') return first;
  const second = await once();
  return second === 'retry' ? null : second;
}

/** Reads a whole answer (bounded). */
function readAll(res: http.IncomingMessage, req: http.ClientRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        req.destroy();
        reject(new Unusable('answer too large'));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', () => reject(new Unusable('answer cut off')));
    res.on('aborted', () => reject(new Unusable('answer cut off')));
  });
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
  opts: SmartHttpOptions & { prefixes?: readonly string[] } = {},
): Promise<Map<string, string> | null> {
  const prefixes = opts.prefixes ?? ['refs/heads/', 'refs/tags/'];
  return uploadPack(url, auth, pin, lsRefsRequestBody(prefixes), 'ls-refs', opts, async (res, req) => {
    const refs = parseLsRefsResponse(await readAll(res, req), prefixes);
    if (!refs) throw new Unusable('not an ls-refs answer');
    return refs;
  });
}

/** The body of a v2 `fetch` that ends negotiation at once (`done`): a thin pack, no progress. */
export function fetchRequestBody(wants: readonly string[], haves: readonly string[]): Buffer {
  return Buffer.concat([
    pkt('command=fetch\n'),
    Buffer.from('0001', 'ascii'),
    pkt('thin-pack\n'),
    pkt('ofs-delta\n'),
    pkt('no-progress\n'),
    ...wants.map((w) => pkt(`want ${w}\n`)),
    ...haves.map((h) => pkt(`have ${h}\n`)),
    pkt('done\n'),
    Buffer.from('0000', 'ascii'),
  ]);
}

/** At most this many `have` lines: the tips that matter most come first (the caller orders them). */
export const MAX_HAVES = 256;

/** Fewer objects than this are unpacked into loose objects, more kept as a pack (git's transfer.unpackLimit). */
export const UNPACK_LIMIT = 100;

/** Where a fetched pack went: kept as a pack (`keep`: the .keep file to drop once refs point into it) or unpacked. */
export interface FetchedPack {
  keep: string | null;
}

/**
 * Fetches the objects of `wants` (object ids) into the bare repository `dir`: one v2 `fetch`
 * request with our tips as `haves` and `done` (no negotiation rounds); the packfile section's
 * side-band 1 goes, like git fetch's, into `git unpack-objects --strict` when it holds fewer than
 * UNPACK_LIMIT objects (loose objects), else into `git index-pack --stdin --fix-thin --strict
 * --keep`. Either way every object is checked and every object it links to must be present (in
 * the pack or the repository) before anything uses it: the checks `receive-pack` makes of a push.
 *
 * With `expectSmall` (every moved ref is an update of a ref the mirror has: a push's few objects),
 * `unpack-objects` is started as soon as the request is on its way, so its start-up (a process:
 * 10–30 ms on a loaded small machine) overlaps the server's work on the pack instead of following
 * it. Should the pack hold UNPACK_LIMIT objects or more after all, or the request fail, that
 * process gets an empty input and exits having written nothing (`fatal: early EOF`).
 *
 * Null when this did not work (the caller runs `git fetch`). Throws GitError `timeout` /
 * `idle_timeout` / `aborted`.
 */
export async function fetchPackHttp(
  url: string,
  auth: GitAuth | undefined,
  pin: RemotePin | null | undefined,
  dir: string,
  wants: readonly string[],
  haves: readonly string[],
  opts: SmartHttpOptions & { expectSmall?: boolean } = {},
): Promise<FetchedPack | null> {
  if (wants.length === 0 || ![...wants, ...haves].every((o) => /^[0-9a-f]{40}$/.test(o))) return null;
  const body = fetchRequestBody(wants, haves.slice(0, MAX_HAVES));
  const spawnOpts = {
    cwd: dir,
    // Silent while the pack streams in: the HTTP side watches for a stalled server.
    idleMs: opts.totalMs ?? 120_000,
    totalMs: opts.totalMs ?? 120_000,
    signal: opts.signal,
  };
  const startUnpack = (): GitProcess => spawnGit(['unpack-objects', '--strict', '-q'], spawnOpts);
  // Started on the next turn of the event loop: after the request was handed to its socket
  // (uploadPack below writes it synchronously), so the spawn never delays the request.
  let early: GitProcess | null = null;
  let earlyDone = false;
  let discarded: Promise<void> | null = null;
  const earlyTimer = opts.expectSmall ? setImmediate(() => void (earlyDone || (early = startUnpack()))) : null;
  const takeEarly = (): GitProcess | null => {
    earlyDone = true;
    if (earlyTimer) clearImmediate(earlyTimer);
    const p = early as GitProcess | null;
    early = null;
    return p;
  };
  try {
    return await uploadPack(url, auth, pin, body, 'fetch', opts, async (res) => {
      let proc: GitProcess | null = null;
      let unpack = false;
      const out: Buffer[] = [];
      let result: FetchedPack | null = null;
      try {
        // Started once the pack header arrived (unless started early): its object count chooses
        // the process (and index-pack creates its temporary pack file at start-up, not worth it
        // for a failed request).
        await demuxPackfile(res, (header) => {
          const count = header.readUInt32BE(8);
          unpack = count < UNPACK_LIMIT;
          const started = takeEarly();
          if (unpack) {
            proc = started ?? startUnpack();
          } else {
            if (started) discarded = stopIndexPack(started);
            proc = spawnGit(['index-pack', '--stdin', '--fix-thin', '--strict', '--keep=syncline fetch'], spawnOpts);
          }
          proc.stdout.on('data', (c: Buffer) => out.push(c));
          return proc.stdin;
        });
        const p = proc as GitProcess | null;
        if (!p) throw new Unusable('no pack');
        p.stdin.end();
        const exit = await p.done;
        if (exit.code !== 0) throw new Unusable(`${unpack ? 'unpack-objects' : 'index-pack'} failed: ${exit.stderr.slice(0, 200)}`);
        if (unpack) {
          result = { keep: null };
        } else {
          const m = /^(?:keep|pack)\t([0-9a-f]{40,64})$/m.exec(Buffer.concat(out).toString('utf8'));
          if (!m) throw new Unusable('index-pack said nothing');
          result = { keep: join(dir, 'objects', 'pack', `pack-${m[1]}.keep`) };
        }
        return result;
      } finally {
        const p = proc as GitProcess | null;
        if (result === null && p) await stopIndexPack(p);
      }
    });
  } finally {
    // The request failed before a pack arrived: the early process gets no input and exits.
    const unused = takeEarly();
    if (unused) await stopIndexPack(unused);
    await discarded;
  }
}

/** Ends an index-pack / unpack-objects that will not get its whole pack: end of input, killed if it does not exit. */
async function stopIndexPack(proc: GitProcess): Promise<void> {
  proc.stdin.end();
  const timer = setTimeout(() => proc.kill(), 5000);
  await proc.done;
  clearTimeout(timer);
}

/**
 * Reads pkt-lines up to the `packfile` section and writes its side-band 1 payload (with
 * back-pressure) to the sink `open` returns once the 12-byte pack header is in, until the flush
 * packet. Side-band 2 (progress) is ignored; 3 (an error), an `ERR` line, a header that is not a
 * version 2 or 3 pack, or the answer ending early throws Unusable.
 */
async function demuxPackfile(res: http.IncomingMessage, open: (header: Buffer) => NodeJS.WritableStream): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  let inPack = false;
  let sink: NodeJS.WritableStream | null = null;
  let head: Buffer = Buffer.alloc(0);
  const write = async (data: Buffer): Promise<void> => {
    if (!sink) {
      head = Buffer.concat([head, data]);
      if (head.length < 12) return;
      if (head.toString('latin1', 0, 4) !== 'PACK' || ![2, 3].includes(head.readUInt32BE(4))) throw new Unusable('not a pack');
      sink = open(head);
      data = head;
    }
    if (!sink.write(data)) await drained(sink);
  };
  for await (const chunk of res as AsyncIterable<Buffer>) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let at = 0;
    while (at + 4 <= buf.length) {
      const lenText = buf.toString('ascii', at, at + 4);
      if (!/^[0-9a-f]{4}$/.test(lenText)) throw new Unusable('not a pkt-line');
      const len = parseInt(lenText, 16);
      if (len === 0) {
        if (!inPack || !sink) throw new Unusable('no packfile section');
        return; // flush: the pack is complete
      }
      if (len === 1) {
        at += 4; // delimiter between sections
        continue;
      }
      if (len < 4) throw new Unusable('unexpected special packet');
      if (at + len > buf.length) break; // wait for the rest of this packet
      const payload = buf.subarray(at + 4, at + len);
      at += len;
      if (!inPack) {
        const line = payload.toString('utf8').replace(/\n$/, '');
        if (line.startsWith('ERR ')) throw new Unusable('remote error');
        if (line === 'packfile') inPack = true;
        // Other sections (acknowledgments, shallow-info, wanted-refs…) are skipped.
        continue;
      }
      const band = payload[0];
      if (band === 1) {
        await write(payload.subarray(1));
      } else if (band === 3) {
        throw new Unusable('remote error');
      }
    }
    buf = buf.subarray(at);
  }
  throw new Unusable('answer ended before the flush packet');
}

/** Resolves when `sink` drains; throws Unusable when it closes first (index-pack died). */
function drained(sink: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      sink.removeListener('drain', onDrain);
      sink.removeListener('close', onClose);
      sink.removeListener('error', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Unusable('index-pack stopped reading'));
    sink.on('drain', onDrain);
    sink.on('close', onClose);
    sink.on('error', onClose);
  });
}
