/**
 * Test harness for the mirror smart-HTTP plugin: a Fastify app on 127.0.0.1 serving temp mirrors,
 * a real git client with a clean environment, raw HTTP requests (no URL normalisation), pkt-line
 * builders and process inspection for "no git left behind" checks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { ensureMirror, maintainMirror, onGitSpawn, type GitSpawnInfo } from '../../../src/git/index.js';
import { mirrorGitRoutes, type MirrorGitRoutesOptions, type MirrorTarget } from '../../../src/mirror/git-http.js';
import { ConcurrencyLimiter } from '../../../src/mirror/limiter.js';
import { tempDir, type FixtureRepo } from '../../helpers/git-fixtures.js';

// ---------------------------------------------------------------------------------------------
// server

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface MirrorServer {
  app: FastifyInstance;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Clone URL of a slug: `<origin>/git/<slug>.git`. */
  url(slug: string, opts?: { user?: string; password?: string; suffix?: boolean }): string;
  /** slug → mirror; edit freely ("registered sources"). */
  mirrors: Map<string, MirrorTarget>;
  /** Passwords authorizeBasic accepts. */
  tokens: Set<string>;
  authCalls: Array<{ password: string; source: string }>;
  /** Every upload-pack started by the plugin. */
  spawns: GitSpawnInfo[];
  requests: RecordedRequest[];
  /** Parsed JSON log lines. */
  logs: Array<Record<string, unknown>>;
  limiter: ConcurrencyLimiter;
  close(): Promise<void>;
}

export interface MirrorServerOptions extends Partial<Omit<MirrorGitRoutesOptions, 'resolve' | 'authorizeBasic'>> {
  maxConcurrent?: number;
}

export async function startMirrorServer(opts: MirrorServerOptions = {}): Promise<MirrorServer> {
  const logs: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      cb();
    },
  });
  // A tiny bodyLimit proves the plugin's bodies bypass Fastify's parsing.
  const app = Fastify({ bodyLimit: 1024, logger: { level: 'debug', stream } });
  const mirrors = new Map<string, MirrorTarget>();
  const tokens = new Set<string>();
  const authCalls: MirrorServer['authCalls'] = [];
  const spawns: GitSpawnInfo[] = [];
  const requests: RecordedRequest[] = [];
  const maxConcurrent = opts.maxConcurrent ?? 16;
  const limiter =
    opts.limiter ??
    new ConcurrencyLimiter({
      maxConcurrent,
      maxQueue: opts.maxQueue ?? 64,
      queueTimeoutMs: opts.queueTimeoutMs ?? 30_000,
      retryAfterSeconds: opts.retryAfterSeconds ?? 5,
    });

  const stopWatching = onGitSpawn((info) => {
    if (info.args[0] === 'upload-pack') spawns.push(info);
  });
  app.addHook('onRequest', async (req) => {
    requests.push({ method: req.method, url: req.url, headers: { ...req.headers } });
  });
  await app.register(mirrorGitRoutes, {
    ...opts,
    prefix: '/git',
    limiter,
    resolve: async (slug) => mirrors.get(slug) ?? null,
    authorizeBasic: async (password, source) => {
      authCalls.push({ password, source });
      return tokens.has(password);
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    app,
    origin,
    url: (slug, o = {}) => {
      const cred = o.password !== undefined ? `${encodeURIComponent(o.user ?? 'x')}:${encodeURIComponent(o.password)}@` : '';
      return `http://${cred}127.0.0.1:${port}/git/${slug}${o.suffix === false ? '' : '.git'}`;
    },
    mirrors,
    tokens,
    authCalls,
    spawns,
    requests,
    logs,
    limiter,
    close: async () => {
      stopWatching();
      await app.close();
    },
  };
}

/**
 * Mirrors `repo` into `mirrorsDir` through the real mirror cache (marker included), then writes
 * its bitmaps as the mirror scheduler does after each update (`maintain: false`: as after a
 * fetch made by a sync, before the scheduler's next pass — bitmaps stale or absent).
 */
export async function mirrorOf(
  repo: FixtureRepo,
  mirrorsDir: string,
  name = repo.name,
  opts: { keepMs?: number; maintain?: boolean } = {},
): Promise<string> {
  const { maintain = true, ...mirrorOpts } = opts;
  const info = await ensureMirror({ name, url: repo.fileUrl }, { mirrorsDir, ...mirrorOpts });
  if (maintain) await maintainMirror(info.dir);
  return info.dir;
}

// ---------------------------------------------------------------------------------------------
// git client

export interface ClientResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let clientHome: string | undefined;

export async function clientEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  clientHome ??= await tempDir('syncline-client-home-');
  return {
    PATH: process.env.PATH,
    HOME: clientHome,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    ...extra,
  };
}

/** Runs the git client; never rejects (inspect `code`). */
export async function client(cwd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ClientResult> {
  const env = await clientEnv(opts.env);
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-c', 'init.defaultBranch=main', '-c', 'advice.detachedHead=false', ...args],
      { cwd, env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** Like `client` but fails the test with git's stderr on a non-zero exit. */
export async function clientOk(cwd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<string> {
  const res = await client(cwd, args, opts);
  if (res.code !== 0) throw new Error(`git ${args.join(' ')} failed (${res.code ?? res.signal}): ${res.stderr}`);
  return res.stdout.trim();
}

/** A git client process in its own process group (so the test can stop or kill all of it). */
export async function spawnClient(cwd: string, args: string[]): Promise<ChildProcess> {
  const env = await clientEnv();
  const child = spawn('git', args, { cwd, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}

/** `<oid> <refname>` lines of a repository's branches and tags, sorted. */
export async function refLines(gitDir: string): Promise<string> {
  return clientOk(gitDir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
}

// ---------------------------------------------------------------------------------------------
// raw HTTP

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RawRequestOptions {
  /** Default: POST when there is a body, else GET. */
  method?: string;
  headers?: Record<string, string>;
  /** Sent as one chunk (with Content-Length) unless `chunks` is given. */
  body?: Buffer | string;
  /** Sent one write at a time with chunked encoding (no Content-Length). */
  chunks?: Buffer[];
}

/** An HTTP request with the path exactly as given (fetch() would normalise `..` and `%2e`). */
export function rawRequest(origin: string, path: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = httpRequest({ host: hostname, port, method: opts.method ?? (opts.body !== undefined || opts.chunks ? 'POST' : 'GET'), path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// pkt-lines

export function pkt(line: string): Buffer {
  const payload = Buffer.from(line);
  return Buffer.concat([Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload]);
}
export const FLUSH = Buffer.from('0000');
export const DELIM = Buffer.from('0001');

/** A protocol v2 `fetch` request body. */
export function v2FetchRequest(wants: string[], opts: { haves?: string[]; args?: string[] } = {}): Buffer {
  return Buffer.concat([
    pkt('command=fetch\n'),
    pkt('agent=syncline-test\n'),
    pkt('object-format=sha1\n'),
    DELIM,
    pkt('no-progress\n'),
    ...(opts.args ?? []).map((a) => pkt(`${a}\n`)),
    ...wants.map((w) => pkt(`want ${w}\n`)),
    ...(opts.haves ?? []).map((h) => pkt(`have ${h}\n`)),
    pkt('done\n'),
    FLUSH,
  ]);
}

/** A protocol v2 `ls-refs` request body. */
export function v2LsRefsRequest(): Buffer {
  return Buffer.concat([pkt('command=ls-refs\n'), pkt('object-format=sha1\n'), DELIM, pkt('symrefs\n'), pkt('peel\n'), FLUSH]);
}

export const V2_HEADERS = {
  'content-type': 'application/x-git-upload-pack-request',
  accept: 'application/x-git-upload-pack-result',
  'git-protocol': 'version=2',
} as const;

// ---------------------------------------------------------------------------------------------
// processes

/** Pids of live (non-zombie) processes in process group `pgid`, including the leader. */
export async function liveProcessesInGroup(pgid: number): Promise<number[]> {
  const live: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(join('/proc', entry, 'stat'), 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ..." — comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const pgrp = Number(fields[2]);
    if (pgrp === pgid && state !== 'Z') live.push(Number(entry));
  }
  return live;
}

/** True when `pid` no longer exists or is a zombie. */
export async function isGone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Writes a git fast-import stream into `gitDir`. */
export async function fastImport(gitDir: string, stream: string | Buffer): Promise<void> {
  const env = await clientEnv();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: gitDir, env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import failed: ${stderr}`))));
    child.stdin.end(stream);
  });
}
