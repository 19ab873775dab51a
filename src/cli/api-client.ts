import crypto from 'node:crypto';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ErrorBody } from '../contracts/errors.js';

export interface ApiResponse {
  status: number;
  /** The parsed JSON body (typed by the caller from the contracts), or null. */
  body: unknown;
}

/**
 * The CLI speaks the HTTP API in both modes, so every rule (validation, roles, audit) is the
 * server's:
 *  - remote: `--url`/SYNCLINE_URL with SYNCLINE_TOKEN, over HTTP;
 *  - local (no URL): the app is built in-process on the configured database and requests are
 *    injected with a one-off admin token, acting as `cli`. Local mode is how the first token
 *    is made on a new install.
 */
export interface ApiClient {
  request(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  close(): Promise<void>;
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export interface ClientOptions {
  url?: string;
  token?: string;
}

export async function openClient(opts: ClientOptions): Promise<ApiClient> {
  const url = opts.url ?? process.env.SYNCLINE_URL;
  if (url) {
    const token = opts.token ?? process.env.SYNCLINE_TOKEN;
    if (!token) throw new CliError('SYNCLINE_TOKEN is required with --url/SYNCLINE_URL', 2);
    return remoteClient(url.replace(/\/+$/, ''), token);
  }
  return localClient();
}

function remoteClient(base: string, token: string): ApiClient {
  return {
    async request(method, path, body) {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }).catch((err: Error) => {
        throw new CliError(`Cannot reach ${base}: ${err.message}`);
      });
      const text = await res.text();
      return { status: res.status, body: text ? safeJson(text) : null };
    },
    async close() {},
  };
}

async function localClient(): Promise<ApiClient> {
  // Loaded only in local mode: a remote call never pays for the server's modules.
  const [{ loadSettings }, { buildApp }, { openContext }] = await Promise.all([
    import('../config/load.js'),
    import('../server/app.js'),
    import('../app-context.js'),
  ]);
  const cliToken = crypto.randomBytes(32).toString('hex');
  // Quieter than the server by default; a SYNCLINE_LOG_LEVEL the user set is read (and, if bad,
  // named) by loadSettings itself.
  const settings = loadSettings(process.env.SYNCLINE_LOG_LEVEL ? {} : { overrides: { log_level: 'warn' } });
  refuseSilentNewDatabase(settings);
  const ctx = await openContext(settings);
  let app: FastifyInstance;
  try {
    app = await buildApp({ ctx, localAdmin: { token: cliToken, name: 'cli' }, surface: 'api' });
  } catch (err) {
    await ctx.db.close();
    throw err;
  }
  return {
    async request(method, path, body) {
      const res = await app.inject({
        method: method as 'GET',
        url: `/api/v1${path}`,
        headers: { authorization: `Bearer ${cliToken}` },
        ...(body !== undefined ? { payload: body as object } : {}),
      });
      return { status: res.statusCode, body: res.body ? safeJson(res.body) : null };
    },
    async close() {
      await app.close();
      await ctx.db.close();
    },
  };
}

/**
 * Local mode on the default data dir (`./data`, relative to where the CLI runs) with no database
 * there: probably the wrong directory, not a new install. Creating an empty database silently
 * would hide that (the token made there would never work), so refuse and say what to do.
 */
function refuseSilentNewDatabase(settings: { database_url: string; data_dir: string; data_dir_origin?: string }): void {
  if (!settings.database_url.startsWith('sqlite:')) return;
  if (settings.data_dir_origin && settings.data_dir_origin !== 'default') return;
  const file = settings.database_url.slice('sqlite:'.length);
  if (!file || file === ':memory:' || fs.existsSync(file)) return;
  throw new CliError(
    `No Syncline database in ${settings.data_dir} (the default data dir, relative to the current directory). ` +
      'Run the CLI where the server runs, set SYNCLINE_DATA_DIR to the server\'s data dir (setting it also allows creating a new one), ' +
      'or talk to a running server with --url/SYNCLINE_URL and SYNCLINE_TOKEN.',
    2,
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Returns the body of a 2xx response or throws a CliError carrying the API's error message. */
export function expectOk<T>(res: ApiResponse): T {
  if (res.status >= 200 && res.status < 300) return res.body as T;
  const err = (res.body as Partial<ErrorBody> | null)?.error;
  const msg = err ? `${err.code}: ${err.message}` : `HTTP ${res.status}`;
  throw new CliError(msg);
}
