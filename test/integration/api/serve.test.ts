/**
 * `syncline serve` as a process: it listens, answers, serves the CLI's remote mode, and on
 * SIGTERM lets an in-flight request finish, closes the port and exits 0.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../../helpers/app.js';
import { BIN, cliEnv, runCli } from '../../helpers/cli.js';

interface Server {
  child: ChildProcessWithoutNullStreams;
  port: number;
  /** Parsed JSON log lines so far. */
  lines: any[];
  /** Resolves with the first log line matching `pred` (already seen or yet to come). */
  waitForLog(pred: (line: any) => boolean): Promise<any>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Server[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of started.splice(0)) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const ROOT = path.resolve(path.dirname(BIN), '..');

interface StartOptions {
  /** Reuse this data dir (default: a new one). */
  dataDir?: string;
  /** Run `npm start` in the project (as a user does) instead of `bin/syncline.js serve`. */
  npmStart?: boolean;
  env?: Record<string, string>;
  /** Resolve once the process printed its first line instead of waiting for "listening". */
  noWait?: boolean;
}

async function startServe(opts: StartOptions = {}): Promise<Server & { stderrText(): string; dataDir: string }> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-serve-'));
  if (!opts.dataDir) dirs.push(dataDir);
  const env = cliEnv({
    SYNCLINE_PORT: '0',
    SYNCLINE_HOST: '127.0.0.1',
    SYNCLINE_DATA_DIR: dataDir,
    SYNCLINE_ADMIN_TOKEN: ADMIN_TOKEN,
    SYNCLINE_LOG_LEVEL: 'info',
    ...opts.env,
  });
  const child = opts.npmStart
    ? spawn('npm', ['start', '--silent'], { cwd: ROOT, env })
    : spawn(process.execPath, [BIN, 'serve'], { cwd: dataDir, env });
  const lines: any[] = [];
  const waiters: { pred: (l: any) => boolean; resolve: (l: any) => void }[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let line: any;
      try {
        line = JSON.parse(text);
      } catch {
        continue;
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLog = (pred: (l: any) => boolean) =>
    new Promise<any>((resolve, reject) => {
      const seen = lines.find(pred);
      if (seen) return resolve(seen);
      waiters.push({ pred, resolve });
      void exited.then(({ code }) => reject(new Error(`serve exited (${code}) first; stderr: ${stderr}`)));
    });

  if (opts.noWait) {
    const server = { child, port: 0, lines, waitForLog, exited, stderrText: () => stderr, dataDir };
    started.push(server);
    return server;
  }
  const listening = await waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('Server listening at http://127.0.0.1:'));
  await waitForLog((l) => l.msg === 'syncline listening');
  const port = Number(/:(\d+)$/.exec(listening.msg)![1]);
  const server = { child, port, lines, waitForLog, exited, stderrText: () => stderr, dataDir };
  started.push(server);
  return server;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

// Each test starts one to three server processes: on a loaded 2-CPU machine that takes a while.
describe('syncline serve', { timeout: 180_000 }, () => {
  it('answers on its port, and SIGTERM makes it exit 0 and close the port', async () => {
    const s = await startServe();
    const health = await fetch(`http://127.0.0.1:${s.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' }); // `details` may follow (events relay)
    const ready = await fetch(`http://127.0.0.1:${s.port}/readyz`);
    expect(ready.status).toBe(200);

    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down: finishing in-flight requests', 'shutdown complete']));
    expect(await portAcceptsConnections(s.port)).toBe(false);
  });

  it('lets a request that is in flight at SIGTERM finish before exiting', async () => {
    // At debug level the server logs each request as it arrives ('incoming request').
    const s = await startServe({ env: { SYNCLINE_LOG_LEVEL: 'debug' } });
    const body = JSON.stringify({ name: 'late', role: 'viewer' });
    const half = Math.floor(body.length / 2);
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: s.port,
          method: 'POST',
          path: '/api/v1/tokens',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        },
      );
      req.on('error', reject);
      // Half the body now: the server has the request and waits for the rest.
      req.write(body.slice(0, half));
      void s
        .waitForLog((l) => l.msg === 'incoming request' && l.req?.url === '/api/v1/tokens')
        .then(() => {
          s.child.kill('SIGTERM');
          return s.waitForLog((l) => l.msg === 'shutting down: finishing in-flight requests');
        })
        .then(() => req.end(body.slice(half)), reject);
    });
    const res = await response;
    expect(res.status, res.body).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ name: 'late', token: expect.stringMatching(/^syl_/) });
    expect(await s.exited).toEqual({ code: 0, signal: null });
  });

  it('serves the CLI in remote mode (--url with SYNCLINE_TOKEN)', async () => {
    const s = await startServe();
    const url = `http://127.0.0.1:${s.port}`;
    const created = await runCli(['token', 'create', '--name', 'remote', '--role', 'viewer', '--url', url], { SYNCLINE_TOKEN: ADMIN_TOKEN });
    expect(created.code, created.stderr).toBe(0);
    const viewer = created.stdout.trim();
    expect(viewer).toMatch(/^syl_/);

    const asViewer = await runCli(['namespace', 'list', '--json'], { SYNCLINE_URL: url, SYNCLINE_TOKEN: viewer });
    expect(asViewer.code, asViewer.stderr).toBe(0);
    expect(JSON.parse(asViewer.stdout)).toEqual({ items: [] });
    // A viewer cannot create tokens: the API's 403 comes back as the CLI's error.
    const denied = await runCli(['token', 'create', '--name', 'x', '--role', 'admin'], { SYNCLINE_URL: url, SYNCLINE_TOKEN: viewer });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('forbidden');
    const noToken = await runCli(['token', 'list', '--url', url]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('SYNCLINE_TOKEN');

    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });

  it('npm start runs the compiled server, and SIGTERM to npm shuts it down gracefully with no orphan', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).not.toMatch(/tsx/);
    expect(pkg.scripts.start).toMatch(/dist\/cli\/main\.js serve/);
    expect(fs.readFileSync(BIN, 'utf8')).not.toMatch(/tsx/);
    const s = await startServe({ npmStart: true });
    const serverPid = s.lines.find((l) => l.msg === 'syncline listening').pid as number;
    expect(serverPid).not.toBe(s.child.pid);
    expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);

    s.child.kill('SIGTERM');
    await s.exited;
    await s.waitForLog((l) => l.msg === 'shutdown complete');
    await expect.poll(() => processAlive(serverPid), { timeout: 10_000 }).toBe(false);
    expect(await portAcceptsConnections(s.port)).toBe(false);
  });

  it('one server per SQLite data dir: a second one exits with a clear message; a stale lock is taken over', async () => {
    const first = await startServe();
    const dataDir = first.dataDir;
    const second = await startServe({ dataDir, noWait: true });
    expect((await second.exited).code).toBe(1);
    expect(second.stderrText()).toContain(`Another Syncline server (pid ${first.lines[0].pid}`);
    expect(second.stderrText()).toContain(dataDir);
    // The first one is unaffected.
    expect((await fetch(`http://127.0.0.1:${first.port}/healthz`)).status).toBe(200);
    first.child.kill('SIGKILL');
    await first.exited;
    // Killed hard: its lock stays behind, and the next server takes it over.
    expect(fs.existsSync(path.join(dataDir, 'syncline.lock'))).toBe(true);
    const third = await startServe({ dataDir });
    expect((await fetch(`http://127.0.0.1:${third.port}/healthz`)).status).toBe(200);
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'syncline.lock'))).toBe(false);
  });

  it('the startup hint names a command that works from where the server runs', async () => {
    const s = await startServe({ env: { SYNCLINE_ADMIN_TOKEN: '' } });
    const hint = s.lines.find((l) => typeof l.msg === 'string' && l.msg.includes('token create'));
    const command = /`([^`]+) --name NAME --role admin`/.exec(hint.msg)![1]!;
    s.child.kill('SIGTERM');
    await s.exited;
    // Run exactly that, from the server's working directory (its data dir here).
    const [envPart, bin, ...rest] = command.split(' ');
    const [k, v] = envPart!.split('=');
    expect(k).toBe('SYNCLINE_DATA_DIR');
    const child = spawn(process.execPath, [path.resolve(v!, bin!), ...rest, '--name', 'first', '--role', 'admin'], {
      cwd: v!,
      env: cliEnv({ [k!]: v! }),
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^syl_/);
  });

  it("the CLI's local mode refuses to create a fresh database silently in another directory", async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-elsewhere-'));
    dirs.push(elsewhere);
    const res = await runCli(['token', 'list'], {}, elsewhere);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`No Syncline database in ${path.join(elsewhere, 'data')}`);
    expect(res.stderr).toContain('SYNCLINE_DATA_DIR');
    expect(fs.existsSync(path.join(elsewhere, 'data'))).toBe(false);
    // Naming the data dir is a deliberate choice: then a new database is made.
    const made = await runCli(['token', 'list', '--json'], { SYNCLINE_DATA_DIR: path.join(elsewhere, 'data') }, elsewhere);
    expect(made.code, made.stderr).toBe(0);
  });
});
