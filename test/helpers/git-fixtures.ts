/**
 * Real git repositories and a real smart-HTTP git server for tests.
 *
 * A fixture repo is an upstream bare repo `<root>/<name>.git` plus a working clone that commits
 * are made in and pushed from, so "the remote" behaves like a forge: its HEAD is the default
 * branch, branches can be force-pushed and deleted.
 *
 * `serveGitHttp(root)` serves every repo under `root` through `git http-backend` (CGI) from a
 * node:http server on 127.0.0.1, optionally behind a token, with switchable faults (hang, drop the
 * connection mid-response, delay) for timeout and failure tests.
 *
 * The server runs in the test's own process: talk to it with async child processes only
 * (`execFile`, `spawn`, src/git). `execFileSync('git', ['clone', server.url…])` blocks the event
 * loop the server needs and deadlocks the test.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// ---------------------------------------------------------------------------------------------
// temp dirs

const tempDirs: string[] = [];
let fixtureHome: string | undefined;

/** A fresh temp dir, removed by `cleanupTempDirs()`. */
export async function tempDir(prefix = 'syncline-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every dir made by `tempDir` / `makeRepo` (call in afterAll). */
export async function cleanupTempDirs(): Promise<void> {
  const dirs = tempDirs.splice(0);
  fixtureHome = undefined; // it is one of the dirs removed below
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

// ---------------------------------------------------------------------------------------------
// running git for fixtures (independent of src/git so fixtures can't hide engine bugs)

async function fixtureEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  fixtureHome ??= await tempDir('syncline-fixture-home-');
  return {
    PATH: process.env.PATH,
    HOME: fixtureHome,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Fixture Author',
    GIT_AUTHOR_EMAIL: 'author@example.test',
    GIT_COMMITTER_NAME: 'Fixture Committer',
    GIT_COMMITTER_EMAIL: 'committer@example.test',
    ...extra,
  };
}

/** Runs git in `cwd` for fixtures and returns trimmed stdout; rejects with stderr on failure. */
export async function git(cwd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const env = await fixtureEnv(extraEnv);
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', '-c', 'init.defaultBranch=main', ...args],
      { cwd, env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args.join(' ')} failed in ${cwd}: ${stderr || err.message}`));
        else resolve(stdout.trim());
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// repos

export interface FixtureRepo {
  name: string;
  /** Directory holding `<name>.git`; pass it to serveGitHttp. */
  root: string;
  /** The upstream bare repo. */
  bareDir: string;
  /** Working clone used to make commits. */
  workDir: string;
  /** file:// URL of the upstream. */
  fileUrl: string;
  defaultBranch: string;
}

export interface MakeRepoOptions {
  /** Put the bare repo here (several repos can share one served root). Default: a new temp dir. */
  root?: string;
  name?: string;
  defaultBranch?: string;
}

export async function makeRepo(opts: MakeRepoOptions = {}): Promise<FixtureRepo> {
  const name = opts.name ?? 'repo';
  const defaultBranch = opts.defaultBranch ?? 'main';
  const root = opts.root ?? (await tempDir('syncline-upstream-'));
  const bareDir = join(root, `${name}.git`);
  const workDir = await tempDir(`syncline-work-${name}-`);
  await git(root, ['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, bareDir]);
  await git(workDir, ['init', '--quiet', `--initial-branch=${defaultBranch}`, '.']);
  await git(workDir, ['remote', 'add', 'origin', bareDir]);
  return { name, root, bareDir, workDir, fileUrl: `file://${bareDir}`, defaultBranch };
}

/** File content for commitFiles: text/bytes, a symlink, an executable, or a submodule (gitlink). */
export type FixtureFile = string | Buffer | { symlink: string } | { executable: string | Buffer } | { submodule: string };

export interface CommitOptions {
  author?: { name: string; email: string };
  /** Branch to commit on (created from the current HEAD if missing). Default: the default branch. */
  branch?: string;
  /** ISO date for author and committer (stable ids across runs). */
  date?: string;
  /** Push to the upstream (default true). */
  push?: boolean;
}

async function currentBranch(repo: FixtureRepo): Promise<string> {
  return git(repo.workDir, ['symbolic-ref', '--short', 'HEAD']);
}

async function hasCommits(repo: FixtureRepo): Promise<boolean> {
  try {
    await git(repo.workDir, ['rev-parse', '--verify', '--quiet', 'HEAD']);
    return true;
  } catch {
    return false;
  }
}

async function localBranchExists(repo: FixtureRepo, branch: string): Promise<boolean> {
  try {
    await git(repo.workDir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
    return true;
  } catch {
    return false;
  }
}

async function switchTo(repo: FixtureRepo, branch: string): Promise<void> {
  if (!(await hasCommits(repo))) {
    await git(repo.workDir, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  } else if (await localBranchExists(repo, branch)) {
    if ((await currentBranch(repo)) !== branch) await git(repo.workDir, ['checkout', '--quiet', branch]);
  } else {
    await git(repo.workDir, ['checkout', '--quiet', '-b', branch]);
  }
}

/**
 * Writes (or with `null` deletes) files, commits and pushes. Returns the new commit id.
 * Paths are repo-relative with `/`; parent folders are created.
 */
export async function commitFiles(
  repo: FixtureRepo,
  files: Record<string, FixtureFile | null>,
  message = 'update files',
  opts: CommitOptions = {},
): Promise<string> {
  const branch = opts.branch ?? repo.defaultBranch;
  await switchTo(repo, branch);
  const addPaths: string[] = [];
  const gitlinks: Array<[string, string]> = [];
  for (const [path, content] of Object.entries(files)) {
    const abs = join(repo.workDir, path);
    await rm(abs, { recursive: true, force: true });
    if (content === null) {
      addPaths.push(path);
      continue;
    }
    if (typeof content === 'object' && !Buffer.isBuffer(content) && 'submodule' in content) {
      gitlinks.push([path, content.submodule]);
      continue;
    }
    await mkdir(dirname(abs), { recursive: true });
    if (typeof content === 'string' || Buffer.isBuffer(content)) {
      await writeFile(abs, content);
    } else if ('symlink' in content) {
      await symlink(content.symlink, abs);
    } else {
      await writeFile(abs, content.executable, { mode: 0o755 });
    }
    addPaths.push(path);
  }
  if (addPaths.length) await git(repo.workDir, ['add', '--all', '--', ...addPaths]);
  for (const [path, sha] of gitlinks) {
    await git(repo.workDir, ['update-index', '--add', '--cacheinfo', `160000,${sha},${path}`]);
  }
  const env: Record<string, string> = {};
  if (opts.author) {
    env.GIT_AUTHOR_NAME = opts.author.name;
    env.GIT_AUTHOR_EMAIL = opts.author.email;
  }
  if (opts.date) {
    env.GIT_AUTHOR_DATE = opts.date;
    env.GIT_COMMITTER_DATE = opts.date;
  }
  await git(repo.workDir, ['commit', '--quiet', '--allow-empty', '-m', message], env);
  if (opts.push ?? true) await git(repo.workDir, ['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
  return git(repo.workDir, ['rev-parse', 'HEAD']);
}

/** Creates `name` at `from` (default: tip of the default branch) upstream. Returns its commit. */
export async function createBranch(repo: FixtureRepo, name: string, from?: string): Promise<string> {
  const start = from ?? `refs/heads/${repo.defaultBranch}`;
  await git(repo.workDir, ['branch', '--force', name, start]);
  await git(repo.workDir, ['push', '--quiet', 'origin', `refs/heads/${name}:refs/heads/${name}`]);
  return git(repo.workDir, ['rev-parse', `refs/heads/${name}`]);
}

/** Deletes a branch upstream (and locally, switching away if needed). */
export async function deleteBranch(repo: FixtureRepo, name: string): Promise<void> {
  await git(repo.workDir, ['push', '--quiet', 'origin', `:refs/heads/${name}`]);
  if ((await currentBranch(repo)) === name) await git(repo.workDir, ['checkout', '--quiet', repo.defaultBranch]);
  await git(repo.workDir, ['branch', '-D', name]).catch(() => undefined);
}

/** Tags `ref` (default: tip of the default branch); annotated when a message is given. Returns the commit. */
export async function createTag(
  repo: FixtureRepo,
  name: string,
  opts: { ref?: string; message?: string } = {},
): Promise<string> {
  const ref = opts.ref ?? `refs/heads/${repo.defaultBranch}`;
  const args = opts.message ? ['tag', '-a', '-m', opts.message, name, ref] : ['tag', name, ref];
  await git(repo.workDir, args);
  await git(repo.workDir, ['push', '--quiet', 'origin', `refs/tags/${name}:refs/tags/${name}`]);
  return git(repo.workDir, ['rev-parse', `refs/tags/${name}^{commit}`]);
}

/**
 * Rewrites history: points `branch` at `toRef` and force-pushes it, as `git push --force` would.
 * Later commitFiles on the branch build on `toRef`.
 */
export async function forcePush(repo: FixtureRepo, branch: string, toRef: string): Promise<string> {
  const sha = await git(repo.workDir, ['rev-parse', '--verify', `${toRef}^{commit}`]);
  if ((await currentBranch(repo)) === branch) {
    await git(repo.workDir, ['reset', '--quiet', '--hard', sha]);
  } else {
    await git(repo.workDir, ['branch', '--force', branch, sha]);
  }
  await git(repo.workDir, ['push', '--quiet', '--force', 'origin', `${sha}:refs/heads/${branch}`]);
  return sha;
}

/** Points the upstream HEAD (its default branch) at `branch`. */
export async function setDefaultBranch(repo: FixtureRepo, branch: string): Promise<void> {
  await git(repo.bareDir, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  repo.defaultBranch = branch;
}

/** Commit id of `ref` in the upstream (default: its HEAD). */
export async function upstreamCommit(repo: FixtureRepo, ref = 'HEAD'): Promise<string> {
  return git(repo.bareDir, ['rev-parse', '--verify', `${ref}^{commit}`]);
}

/** Incompressible bytes: makes packs big enough to interrupt mid-transfer. */
export function randomBlob(bytes: number): Buffer {
  return randomBytes(bytes);
}

// ---------------------------------------------------------------------------------------------
// smart-HTTP server

export type HttpFault =
  /** Accept the request and never answer (the connection stays open). */
  | { kind: 'hang'; on?: FaultTarget }
  /** Answer normally but destroy the connection after `bytes` of response body. */
  | { kind: 'drop-after'; bytes: number; on?: FaultTarget }
  /** Wait before answering. */
  | { kind: 'delay'; ms: number; on?: FaultTarget }
  /** Answer with this HTTP status and no git content. */
  | { kind: 'status'; status: number; on?: FaultTarget };

/** Which requests a fault hits; default all. */
export type FaultTarget = 'all' | 'info-refs' | 'upload-pack';

export interface RequestLog {
  method: string;
  url: string;
  /** The Authorization header as received (tests assert on presence/scheme, never print it). */
  authorization: string | undefined;
  gitProtocol: string | undefined;
  /** A protocol-v2 POST's command (`ls-refs`, `fetch`), read from the start of an uncompressed body. */
  command?: string;
  status?: number;
}

export interface GitHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:34567` (no trailing slash). */
  url: string;
  /** URL of `<root>/<name>.git`. */
  repoUrl(name: string): string;
  requests: RequestLog[];
  setFault(fault: HttpFault | null): void;
  /** Stops listening and closes open connections; waits for git children. */
  close(): Promise<void>;
  /** Abrupt death: destroys every socket and SIGKILLs every http-backend at once. */
  kill(): void;
}

export interface ServeOptions {
  /** Require this secret: Basic auth with it as password (any user), or `Bearer <token>`. */
  token?: string;
  /** With `token`, also require this Basic username. */
  username?: string;
}

function authorized(header: string | undefined, opts: ServeOptions): boolean {
  if (!opts.token) return true;
  if (!header) return false;
  const [scheme, value = ''] = header.split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') return value === opts.token;
  if (scheme?.toLowerCase() !== 'basic') return false;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const user = decoded.slice(0, colon);
  const pass = decoded.slice(colon + 1);
  return pass === opts.token && (opts.username === undefined || user === opts.username);
}

function faultApplies(fault: HttpFault | null, req: IncomingMessage, pathname: string): fault is HttpFault {
  if (!fault) return false;
  const on = fault.on ?? 'all';
  if (on === 'all') return true;
  if (on === 'info-refs') return req.method === 'GET' && pathname.endsWith('/info/refs');
  return req.method === 'POST' && pathname.endsWith('/git-upload-pack');
}

/** Splits CGI output into headers and the start of the body; null until the blank line arrives. */
function parseCgiHeaders(buf: Buffer): { status: number; headers: Array<[string, string]>; rest: Buffer } | null {
  let end = buf.indexOf('\r\n\r\n');
  let sepLen = 4;
  const lfEnd = buf.indexOf('\n\n');
  if (lfEnd !== -1 && (end === -1 || lfEnd < end)) {
    end = lfEnd;
    sepLen = 2;
  }
  if (end === -1) return null;
  let status = 200;
  const headers: Array<[string, string]> = [];
  for (const line of buf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers.push([name, value]);
  }
  return { status, headers, rest: buf.subarray(end + sepLen) };
}

export async function serveGitHttp(rootDir: string, opts: ServeOptions = {}): Promise<GitHttpServer> {
  const sockets = new Set<Socket>();
  const children = new Set<ChildProcess>();
  const requests: RequestLog[] = [];
  let fault: HttpFault | null = null;
  const env = await fixtureEnv();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const parsed = new URL(req.url ?? '/', 'http://localhost');
    const log: RequestLog = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      authorization: req.headers.authorization,
      gitProtocol: req.headers['git-protocol'] as string | undefined,
    };
    requests.push(log);
    const reply = (status: number, headers: Record<string, string> = {}, body = ''): void => {
      log.status = status;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
      res.end(body);
    };

    const active = faultApplies(fault, req, parsed.pathname) ? fault : null;
    if (active?.kind === 'hang') return; // never answer; the socket stays open until close/kill
    if (active?.kind === 'delay') await new Promise((r) => setTimeout(r, active.ms));
    if (active?.kind === 'status') return reply(active.status, {}, `fault ${active.status}\n`);

    if (!authorized(req.headers.authorization, opts)) {
      return reply(401, { 'WWW-Authenticate': 'Basic realm="syncline-test"' }, 'authentication required\n');
    }

    const cgiEnv: NodeJS.ProcessEnv = {
      ...env,
      GIT_PROJECT_ROOT: rootDir,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(parsed.pathname),
      QUERY_STRING: parsed.search.replace(/^\?/, ''),
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    };
    const child = spawn('git', ['http-backend'], { env: cgiEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.on('close', () => children.delete(child));
    child.on('error', () => {
      if (!res.headersSent) reply(500, {}, 'cannot start git http-backend\n');
    });
    child.stderr.resume(); // drain
    child.stdin.on('error', () => {});
    if (req.method === 'POST' && !req.headers['content-encoding']) {
      req.once('data', (chunk: Buffer) => {
        const m = /^[0-9a-f]{4}command=([a-z-]+)\n/.exec(chunk.subarray(0, 64).toString('latin1'));
        if (m) log.command = m[1];
      });
    }
    req.pipe(child.stdin);
    res.on('close', () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    let head: Buffer | null = Buffer.alloc(0);
    let sent = 0;
    const writeBody = (chunk: Buffer): void => {
      if (active?.kind === 'drop-after') {
        const room = active.bytes - sent;
        if (room <= 0 || chunk.length >= room) {
          if (room > 0) res.write(chunk.subarray(0, room));
          // Flush what we wrote, then vanish like a crashed server.
          setImmediate(() => {
            res.socket?.destroy();
            child.kill('SIGKILL');
          });
          sent = active.bytes;
          return;
        }
      }
      sent += chunk.length;
      if (!res.write(chunk)) {
        child.stdout.pause();
        res.once('drain', () => child.stdout.resume());
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      if (head === null) return writeBody(chunk);
      head = Buffer.concat([head, chunk]);
      const cgi = parseCgiHeaders(head);
      if (!cgi) return;
      head = null;
      log.status = cgi.status;
      res.statusCode = cgi.status;
      for (const [name, value] of cgi.headers) res.setHeader(name, value);
      res.flushHeaders();
      if (cgi.rest.length) writeBody(cgi.rest);
    });
    child.stdout.on('end', () => {
      if (head !== null && !res.headersSent) return reply(502, {}, 'bad CGI response\n');
      if (active?.kind === 'drop-after' && sent >= active.bytes) return;
      res.end();
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const destroyAll = (): void => {
    for (const s of sockets) s.destroy();
    for (const c of children) c.kill('SIGKILL');
  };

  return {
    url,
    repoUrl: (name) => `${url}/${name}.git`,
    requests,
    setFault: (f) => {
      fault = f;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      destroyAll();
      await closed;
      await Promise.all(
        [...children].map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('close', () => resolve())))),
      );
    },
    kill: () => {
      server.close();
      destroyAll();
    },
  };
}
