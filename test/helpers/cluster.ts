/**
 * Replicas as real processes (`bin/syncline.js serve`, the compiled server) on one PostgreSQL
 * schema, each with its own data dir and a fixed port, that a test can `kill -9` and start again
 * (same data dir: the same replica), and a small round-robin HTTP proxy in front of them — the load
 * balancer. The proxy skips a replica that refuses the connection (dead or starting) and tries
 * the next; a request whose replica dies after taking it is answered 502 (never retried: it may have
 * been applied). Shared by the fault tests and `npm run soak`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** `postgres://…` for a schema (created here) and an application_name (for pg_terminate_backend). */
export async function schemaUrl(baseUrl: string, schema: string, applicationName: string): Promise<string> {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try {
    await c.query(`create schema if not exists "${schema}"`);
  } finally {
    await c.end();
  }
  const u = new URL(baseUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  u.searchParams.set('application_name', applicationName);
  return u.toString();
}

export interface ReplicaProcess {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  readonly alive: boolean;
  /** Starts the process; resolves when `/readyz` answers 200. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown, no clean-up (`kill -9`). Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** stderr and the last lines of stdout, for a failure message. */
  output(): string;
}

export function replicaProcess(opts: {
  name: string;
  port: number;
  env: Record<string, string>;
  dataDir?: string;
  /** The CLI entry to run (default bin/syncline.js → dist/); the soak runs a private copy of dist. */
  entry?: string;
}): ReplicaProcess {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `syncline-${opts.name}-`));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  const ready = async (limitMs: number) => {
    const deadline = Date.now() + limitMs;
    for (;;) {
      if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error(`${opts.name} exited while starting:\n${out}`);
      const ok = await new Promise<boolean>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: opts.port, path: '/readyz', timeout: 2000 }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
        req.on('timeout', () => req.destroy());
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`${opts.name} not ready within ${limitMs} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    name: opts.name,
    port: opts.port,
    dataDir,
    get alive() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      // The compiled server (dist/, built by the test setup and by `npm run soak`): starts in a
      // fraction of tsx's time, which matters when a replica is restarted 50 times.
      const c = spawn(process.execPath, [opts.entry ?? path.join(ROOT, 'bin/syncline.js'), 'serve'], {
        cwd: dataDir,
        env: {
          ...process.env,
          SYNCLINE_HOST: '127.0.0.1',
          SYNCLINE_PORT: String(opts.port),
          SYNCLINE_DATA_DIR: dataDir,
          SYNCLINE_LOG_LEVEL: 'warn',
          ...opts.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      c.stdout!.on('data', keep);
      c.stderr!.on('data', keep);
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      await ready(120_000);
    },
    async kill9() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
    output: () => out,
  };
}

export interface RoundRobinProxy {
  port: number;
  /** Requests answered 502 because their replica died (or none was up). */
  readonly failed: number;
  close(): Promise<void>;
}

/** The load balancer: each request to the next replica in turn; refused connections try the next. */
export async function startRoundRobinProxy(ports: () => number[]): Promise<RoundRobinProxy> {
  let next = 0;
  let failed = 0;
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const targets = ports();
      const attempt = (tries: number) => {
        if (tries >= targets.length * 3) {
          failed++;
          res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":{"code":"bad_gateway","message":"no replica answered"}}');
          return;
        }
        const port = targets[next++ % targets.length]!;
        let connected = false;
        const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
          r.on('error', () => res.destroy());
        });
        up.on('socket', (s) => s.on('connect', () => (connected = true)));
        up.on('error', (err: NodeJS.ErrnoException) => {
          if (!connected && (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET')) {
            // Nobody listening (killed, or still starting): the request never reached it.
            setImmediate(() => attempt(tries + 1));
            return;
          }
          failed++;
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":{"code":"bad_gateway","message":"replica died"}}');
          else res.destroy();
        });
        up.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    get failed() {
      return failed;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
