/**
 * The mirror's read-only smart HTTP with real git clients: protocol v2 and v0, shallow, partial,
 * incremental, big and chunked or gzipped requests, response headers, stderr handling.
 */
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, commitFiles, createBranch, createTag, git, makeRepo, tempDir, type FixtureRepo } from '../../helpers/git-fixtures.js';
import {
  client,
  clientOk,
  fastImport,
  mirrorOf,
  rawRequest,
  refLines,
  startMirrorServer,
  v2FetchRequest,
  v2LsRefsRequest,
  V2_HEADERS,
  type MirrorServer,
} from './helpers.js';

let server: MirrorServer;
let repo: FixtureRepo;
let mirrorDir: string;
let mirrorsDir: string;
let work: string;
const commits: string[] = [];

beforeAll(async () => {
  mirrorsDir = await tempDir('syncline-mirrors-');
  work = await tempDir('syncline-clients-');
  repo = await makeRepo({ name: 'app' });
  for (let i = 1; i <= 6; i++) {
    commits.push(
      await commitFiles(
        repo,
        {
          'README.md': `# app\nrevision ${i}\n`,
          [`config/service-${i}.yaml`]: `name: service-${i}\nreplicas: ${i}\n`,
          'data/blob.bin': randomBytes(20_000),
        },
        `commit ${i}`,
        { date: `2024-01-0${i}T00:00:00Z` },
      ),
    );
    if (i === 2) await createTag(repo, 'v1.0.0', { message: 'release 1' });
    if (i === 4) await createTag(repo, 'v2.0.0');
  }
  await createBranch(repo, 'feature', commits[3]);
  await commitFiles(repo, { 'feature.txt': 'feature work\n' }, 'feature commit', { branch: 'feature' });
  mirrorDir = await mirrorOf(repo, mirrorsDir, 'app');

  server = await startMirrorServer();
  server.mirrors.set('app', { dir: mirrorDir, access: 'public', source: 'app' });
});

afterAll(async () => {
  await server?.close();
  await cleanupTempDirs();
});

describe('clone and ls-remote', () => {
  it('clones with protocol v2 (bare) and gets exactly the mirror refs', async () => {
    const dest = join(work, 'v2-bare.git');
    const before = server.spawns.length;
    await clientOk(work, ['-c', 'protocol.version=2', 'clone', '--bare', server.url('app'), dest]);
    expect(await refLines(dest)).toBe(await refLines(mirrorDir));
    await clientOk(dest, ['fsck', '--connectivity-only']);
    const spawned = server.spawns.slice(before);
    // info/refs + ls-refs + fetch
    expect(spawned.length).toBe(3);
    expect(spawned.every((s) => s.args.includes('--stateless-rpc'))).toBe(true);
    const gets = server.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/git/app.git/info/refs'));
    expect(gets.at(-1)?.headers['git-protocol']).toBe('version=2');
  });

  it('clones with protocol v0 and checks out the default branch', async () => {
    const dest = join(work, 'v0-clone');
    await clientOk(work, ['-c', 'protocol.version=0', 'clone', server.url('app'), dest]);
    expect(await clientOk(dest, ['rev-parse', 'HEAD'])).toBe(commits[5]);
    expect(await readFile(join(dest, 'README.md'), 'utf8')).toBe('# app\nrevision 6\n');
    expect(await clientOk(dest, ['tag', '--list'])).toBe('v1.0.0\nv2.0.0');
    const gets = server.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/git/app.git/info/refs'));
    expect(gets.at(-1)?.headers['git-protocol']).toBeUndefined();
  });

  it('serves the slug without the .git suffix', async () => {
    const dest = join(work, 'no-suffix.git');
    await clientOk(work, ['clone', '--bare', server.url('app', { suffix: false }), dest]);
    expect(await refLines(dest)).toBe(await refLines(mirrorDir));
  });

  it('lists refs with ls-remote over v2 and v0', async () => {
    const expected = (await clientOk(mirrorDir, ['for-each-ref', '--format=%(objectname)\t%(refname)', 'refs/heads', 'refs/tags']))
      .split('\n')
      .sort();
    for (const version of ['2', '0']) {
      const out = await clientOk(work, ['-c', `protocol.version=${version}`, 'ls-remote', '--heads', '--tags', server.url('app')]);
      const lines = out.split('\n').filter((l) => !l.endsWith('^{}'));
      expect(lines.sort()).toEqual(expected);
    }
    const symref = await clientOk(work, ['ls-remote', '--symref', server.url('app'), 'HEAD']);
    expect(symref).toContain('ref: refs/heads/main\tHEAD');
  });
});

describe('advertisement and response headers', () => {
  it('prefixes the v0 advertisement with the service line and sets no-cache headers', async () => {
    const res = await rawRequest(server.origin, '/git/app.git/info/refs?service=git-upload-pack');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-git-upload-pack-advertisement');
    expect(res.headers['cache-control']).toContain('no-cache');
    expect(res.body.subarray(0, 34).toString()).toBe('001e# service=git-upload-pack\n0000');
    expect(res.body.toString()).toContain(`${commits[5]} refs/heads/main`);
    expect(res.body.subarray(-4).toString()).toBe('0000');
  });

  it('answers Git-Protocol: version=2 with the v2 capability advertisement', async () => {
    const res = await rawRequest(server.origin, '/git/app/info/refs?service=git-upload-pack', {
      headers: { 'git-protocol': 'version=2' },
    });
    expect(res.status).toBe(200);
    expect(res.body.subarray(0, 14).toString()).toBe('000eversion 2\n');
    expect(res.body.toString()).toContain('ls-refs');
    expect(res.body.toString()).toMatch(/fetch=[^\n]*filter/);
  });

  it('passes Git-Protocol to git only when it has the documented syntax', async () => {
    for (const bad of ['version=2;touch /tmp/x', 'version=2 x', 'version=2\\', '=2', 'version=2:', 'a'.repeat(300) + '=2']) {
      const res = await rawRequest(server.origin, '/git/app.git/info/refs?service=git-upload-pack', {
        headers: { 'git-protocol': bad },
      });
      expect(res.status).toBe(200);
      // Falls back to v0, as if the header were absent.
      expect(res.body.subarray(0, 30).toString()).toBe('001e# service=git-upload-pack\n');
    }
    const multi = await rawRequest(server.origin, '/git/app.git/info/refs?service=git-upload-pack', {
      headers: { 'git-protocol': 'version=2:foo=bar' },
    });
    expect(multi.body.subarray(0, 14).toString()).toBe('000eversion 2\n');
  });

  it('answers a v2 ls-refs POST with the result content type', async () => {
    const res = await rawRequest(server.origin, '/git/app.git/git-upload-pack', { headers: V2_HEADERS, body: v2LsRefsRequest() });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-git-upload-pack-result');
    expect(res.headers['cache-control']).toContain('no-cache');
    expect(res.body.toString()).toContain(`${commits[5]} refs/heads/main`);
  });

  it('rejects a POST that is not an upload-pack request', async () => {
    const res = await rawRequest(server.origin, '/git/app.git/git-upload-pack', {
      headers: { ...V2_HEADERS, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(415);
  });
});

describe('shallow, partial and incremental fetches', () => {
  it('clones --depth 1', async () => {
    const dest = join(work, 'shallow1');
    await clientOk(work, ['clone', '--depth', '1', server.url('app'), dest]);
    expect(await clientOk(dest, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect((await readFile(join(dest, '.git', 'shallow'), 'utf8')).trim()).toBe(commits[5]);
  });

  it('fetches --depth 2 --tags, then deepens with --unshallow', async () => {
    const dest = join(work, 'shallow-tags');
    await clientOk(work, ['init', '--quiet', dest]);
    await clientOk(dest, ['fetch', '--depth', '2', '--tags', server.url('app')]);
    expect(await clientOk(dest, ['tag', '--list'])).toBe('v1.0.0\nv2.0.0');
    expect(await clientOk(dest, ['rev-list', '--count', 'v2.0.0'])).toBe('2');
    await clientOk(dest, ['fetch', '--unshallow', '--tags', server.url('app')]);
    expect(await clientOk(dest, ['rev-list', '--count', 'v2.0.0'])).toBe('4');
  });

  it('clones with --filter=blob:none and fetches missing blobs on demand (including old ones)', async () => {
    const dest = join(work, 'partial');
    await clientOk(work, ['clone', '--filter=blob:none', server.url('app'), dest]);
    expect(await readFile(join(dest, 'config', 'service-6.yaml'), 'utf8')).toBe('name: service-6\nreplicas: 6\n');
    const missing = await clientOk(dest, ['rev-list', '--objects', '--missing=print', '--all']);
    expect(missing.split('\n').filter((l) => l.startsWith('?')).length).toBeGreaterThan(0);
    // An old blob is not in any tip: the server must find it reachable through history.
    expect(await clientOk(dest, ['show', `${commits[0]}:README.md`])).toBe('# app\nrevision 1');
  });

  it('fetches incrementally after the mirror moved on', async () => {
    const dest = join(work, 'incremental.git');
    await clientOk(work, ['clone', '--bare', server.url('app'), dest]);
    const next = await commitFiles(repo, { 'README.md': '# app\nrevision 7\n' }, 'commit 7');
    await mirrorOf(repo, mirrorsDir, 'app');
    for (const version of ['2', '0']) {
      const target = join(work, `incremental-v${version}`);
      await clientOk(work, ['clone', '--quiet', '--bare', dest, target]);
      await clientOk(target, ['-c', `protocol.version=${version}`, 'fetch', server.url('app'), '+refs/heads/*:refs/heads/*']);
      expect(await clientOk(target, ['rev-parse', 'refs/heads/main'])).toBe(next);
    }
    commits.push(next);
  });
});

describe('large, chunked and compressed requests', () => {
  let tagsMirror: string;
  const TAGS = 3000;

  beforeAll(async () => {
    const upstream = await makeRepo({ name: 'many-tags' });
    let stream = 'commit refs/heads/main\nmark :1\ncommitter T <t@example.test> 1700000000 +0000\ndata 4\nbase\nM 644 inline f.txt\ndata 2\nx\n\n';
    for (let i = 0; i < TAGS; i++) {
      const message = `tag ${i}\n`;
      stream += `tag t${String(i).padStart(5, '0')}\nfrom :1\ntagger T <t@example.test> 1700000000 +0000\ndata ${message.length}\n${message}\n`;
    }
    await fastImport(upstream.bareDir, `${stream}done\n`);
    tagsMirror = await mirrorOf(upstream, mirrorsDir, 'many-tags');
    server.mirrors.set('many-tags', { dir: tagsMirror, access: 'public', source: 'many-tags' });
  });

  async function fetchAllTags(dir: string, config: string[]): Promise<void> {
    await clientOk(work, ['init', '--quiet', '--bare', dir]);
    await clientOk(dir, [...config, 'fetch', server.url('many-tags'), '+refs/tags/*:refs/tags/*']);
    expect((await clientOk(dir, ['tag', '--list'])).split('\n')).toHaveLength(TAGS);
  }

  it('streams a chunked request (http.postBuffer 64 KiB, 3000 wants) with no Content-Length', async () => {
    const seen = server.requests.length;
    await fetchAllTags(join(work, 'tags-chunked.git'), ['-c', 'http.postBuffer=65536']);
    const posts = server.requests.slice(seen).filter((r) => r.method === 'POST');
    const chunked = posts.filter((r) => r.headers['transfer-encoding'] === 'chunked' && r.headers['content-length'] === undefined);
    expect(chunked.length).toBeGreaterThan(0);
  });

  it('decompresses gzip request bodies from git (3000 wants, default postBuffer)', async () => {
    const seen = server.requests.length;
    await fetchAllTags(join(work, 'tags-gzip.git'), []);
    const posts = server.requests.slice(seen).filter((r) => r.method === 'POST');
    expect(posts.some((r) => r.headers['content-encoding'] === 'gzip')).toBe(true);
  });

  it('accepts the same large fetch over protocol v0', async () => {
    await fetchAllTags(join(work, 'tags-v0.git'), ['-c', 'protocol.version=0', '-c', 'http.postBuffer=65536']);
  });

  it('takes a raw gzipped v2 request', async () => {
    const res = await rawRequest(server.origin, '/git/app.git/git-upload-pack', {
      headers: { ...V2_HEADERS, 'content-encoding': 'gzip' },
      body: gzipSync(v2LsRefsRequest()),
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('refs/heads/main');
  });

  it('answers 400 to a body that is not valid gzip', async () => {
    const res = await rawRequest(server.origin, '/git/app.git/git-upload-pack', {
      headers: { ...V2_HEADERS, 'content-encoding': 'gzip' },
      body: Buffer.from('this is not gzip at all, not even close'),
    });
    expect(res.status).toBe(400);
  });

  it('streams a 2 MB chunked body past Fastify’s bodyLimit (1 KiB in this app)', async () => {
    const haves = Array.from({ length: 40_000 }, () => randomBytes(20).toString('hex'));
    const body = v2FetchRequest([commits[0] as string], { haves });
    expect(body.length).toBeGreaterThan(1_500_000);
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 64 * 1024) chunks.push(body.subarray(i, i + 64 * 1024));
    const res = await rawRequest(server.origin, '/git/app.git/git-upload-pack', { headers: V2_HEADERS, chunks });
    expect(res.status).toBe(200);
    const text = res.body.toString('latin1');
    expect(text).toContain('packfile\n');
    expect(text).toContain('PACK');
    expect(res.body.subarray(-4).toString()).toBe('0000');
  });
});

describe('stderr', () => {
  it('drains a git that writes hundreds of KiB to stderr instead of deadlocking', async () => {
    // Every bad alternates line makes each git process print an error: ~440 KiB per upload-pack,
    // far beyond a pipe buffer. Undrained, git would block and the clone would hang.
    const noisyUpstream = await makeRepo({ name: 'noisy' });
    await commitFiles(noisyUpstream, { 'a.txt': 'noisy\n' });
    const noisy = await mirrorOf(noisyUpstream, mirrorsDir, 'noisy');
    const lines = Array.from({ length: 5000 }, (_, i) => `/nonexistent/syncline/alternate/${i}/objects\n`).join('');
    await appendFile(join(noisy, 'objects', 'info', 'alternates'), lines);
    server.mirrors.set('noisy', { dir: noisy, access: 'public', source: 'noisy' });
    const dest = join(work, 'noisy.git');
    const res = await client(work, ['clone', '--bare', server.url('noisy'), dest], { timeoutMs: 30_000 });
    expect(res.signal).toBeNull();
    expect(res.code).toBe(0);
    expect(await refLines(dest)).toBe(await refLines(noisy));
  });

  it('logs a failing git with its stderr redacted', async () => {
    const { registerSecret } = await import('../../../src/security/redact.js');
    const secret = 'planted-mirror-secret-0123456789';
    registerSecret(secret);
    const root = await tempDir('syncline-broken-');
    const dir = join(root, `${secret}.git`);
    await git(root, ['init', '--quiet', '--bare', dir]);
    // Marker present, but the repository is unusable: HEAD is garbage.
    await writeFile(join(dir, 'syncline-complete'), '{}\n');
    await writeFile(join(dir, 'HEAD'), 'garbage\n');
    server.mirrors.set('broken', { dir, access: 'public', source: 'broken' });
    const res = await rawRequest(server.origin, '/git/broken.git/info/refs?service=git-upload-pack');
    expect(res.status).toBe(500);
    const line = server.logs.find((l) => l.msg === 'git upload-pack failed' && l.slug === 'broken');
    expect(line).toBeDefined();
    expect(String(line?.stderr)).toMatch(/not .*git repository|\*\*\*/);
    expect(JSON.stringify(server.logs)).not.toContain(secret);
  });
});
