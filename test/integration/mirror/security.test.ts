/**
 * What the mirror endpoint refuses: push, unknown paths, malformed slugs, unregistered or
 * half-made mirrors (all 404 without starting git), missing or wrong tokens (401), and objects
 * that no branch or tag of the mirror reaches (with protocol v2 as well as v0).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupTempDirs,
  commitFiles,
  createBranch,
  deleteBranch,
  git,
  makeRepo,
  tempDir,
  type FixtureRepo,
} from '../../helpers/git-fixtures.js';
import { maintainMirror } from '../../../src/git/index.js';
import { client, clientOk, mirrorOf, rawRequest, startMirrorServer, v2FetchRequest, V2_HEADERS, type MirrorServer } from './helpers.js';

const TOKEN = 'viewer-token-for-mirror-tests-42';
let server: MirrorServer;
let repo: FixtureRepo;
let mirrorsDir: string;
let work: string;
let publicDir: string;
let tip: string;

beforeAll(async () => {
  mirrorsDir = await tempDir('syncline-mirrors-');
  work = await tempDir('syncline-clients-');
  repo = await makeRepo({ name: 'site' });
  await commitFiles(repo, { 'a.txt': 'one\n' }, 'one');
  await commitFiles(repo, { 'a.txt': 'two\n' }, 'two');
  tip = await commitFiles(repo, { 'a.txt': 'three\n' }, 'three');
  publicDir = await mirrorOf(repo, mirrorsDir, 'site');

  server = await startMirrorServer();
  server.tokens.add(TOKEN);
  server.mirrors.set('site', { dir: publicDir, access: 'public', source: 'site', upstream: 'https://git.example.com/acme/site.git' });
  server.mirrors.set('private', { dir: publicDir, access: 'token', source: 'private-source' });
});

afterAll(async () => {
  await server?.close();
  await cleanupTempDirs();
});

describe('404 without starting git', () => {
  const cases: Array<[string, string, string?]> = [
    // push, in every shape
    ['POST', '/git/site.git/git-receive-pack'],
    ['POST', '/git/site/git-receive-pack'],
    // the dumb protocol and other paths
    ['GET', '/git/site.git/info/refs'],
    ['GET', '/git/site.git/info/refs?service=git-upload-archive'],
    ['GET', '/git/site.git/info/refs?service=git-upload-pack&service=git-upload-pack'],
    ['GET', '/git/site.git/HEAD'],
    ['GET', '/git/site.git/objects/info/packs'],
    ['GET', '/git/site.git/config'],
    ['GET', '/git/site.git/git-upload-pack'],
    ['POST', '/git/site.git/info/refs?service=git-upload-pack'],
    ['POST', '/git/site.git/git-upload-archive'],
    ['HEAD', '/git/site.git/info/refs?service=git-upload-pack'],
    ['PUT', '/git/site.git/git-upload-pack'],
    ['GET', '/git/site.git/info/refs/?service=git-upload-pack'],
    ['GET', '/git/site.git//info/refs?service=git-upload-pack'],
    ['GET', '/git/site.git/git-upload-pack/../info/refs?service=git-upload-pack'],
    ['GET', '/git/info/refs?service=git-upload-pack'],
    ['GET', '/git/'],
    ['GET', '/git'],
    // malformed slugs and encodings
    ['GET', '/git/../site.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/..%2Fsite.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/%2e%2e/site.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/si..te.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/..git/info/refs?service=git-upload-pack'],
    ['GET', '/git/.site.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/a%2Fb.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/a%5Cb.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/a%5cb.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/a\\b.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/si%20te.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/%73ite.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/site%2Egit/info/refs?service=git-upload-pack'],
    ['GET', '/git/site.git%2Finfo%2Frefs?service=git-upload-pack'],
    ['GET', '/git/si%00te.git/info/refs?service=git-upload-pack'],
    ['GET', `/git/${'a'.repeat(101)}.git/info/refs?service=git-upload-pack`],
    ['GET', '/git/-site.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/site;x.git/info/refs?service=git-upload-pack'],
    // unknown slugs: nothing registered, or only on disk
    ['GET', '/git/nope.git/info/refs?service=git-upload-pack'],
    ['GET', '/git/unregistered.git/info/refs?service=git-upload-pack'],
    ['POST', '/git/unregistered.git/git-upload-pack', 'body'],
    ['GET', '/git/half.git/info/refs?service=git-upload-pack'],
    ['POST', '/git/half.git/git-upload-pack', 'body'],
  ];

  beforeAll(async () => {
    // On disk and complete, but not a registered source: resolve() does not know it.
    await mirrorOf(repo, mirrorsDir, 'unregistered');
    // Registered, but a half-made mirror: no completion marker.
    const half = join(mirrorsDir, 'half.git');
    await git(mirrorsDir, ['clone', '--quiet', '--bare', repo.bareDir, half]);
    server.mirrors.set('half', { dir: half, access: 'public', source: 'half' });
  });

  it.each(cases)('%s %s', async (method, path, body) => {
    const before = server.spawns.length;
    const res = await rawRequest(server.origin, path, {
      method,
      ...(body !== undefined || method === 'POST'
        ? { body: body ?? '0000', headers: { 'content-type': 'application/x-git-upload-pack-request' } }
        : {}),
    });
    // Node's parser refuses some raw bytes itself (400); either way git never runs.
    expect([404, 400]).toContain(res.status);
    if (!path.includes('\\')) expect(res.status).toBe(404);
    expect(server.spawns.length).toBe(before);
  });

  it('answers a push with an ERR packet naming the upstream (git prints it), and no git process', async () => {
    const refs = await rawRequest(server.origin, '/git/site.git/info/refs?service=git-receive-pack');
    expect(refs.status).toBe(200);
    expect(refs.headers['content-type']).toBe('application/x-git-receive-pack-advertisement');
    expect(refs.body.toString()).toContain('ERR read-only mirror of https://git.example.com/acme/site.git; push there');
    const before = server.spawns.length;
    const local = join(work, 'push-src');
    await clientOk(work, ['clone', '--quiet', server.url('site'), local]);
    const spawnsAfterClone = server.spawns.length;
    const res = await client(local, ['push', server.url('site'), 'HEAD:refs/heads/evil']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('read-only mirror of https://git.example.com/acme/site.git; push there');
    expect(server.spawns.length).toBe(spawnsAfterClone);
    expect(spawnsAfterClone - before).toBe(3);
  });

  it('does not ask the registry about malformed slugs', async () => {
    const seen: string[] = [];
    const probe = await startMirrorServer();
    try {
      const original = probe.mirrors.get.bind(probe.mirrors);
      probe.mirrors.get = (slug: string) => {
        seen.push(slug);
        return original(slug);
      };
      await rawRequest(probe.origin, '/git/..%2Fsite.git/info/refs?service=git-upload-pack');
      await rawRequest(probe.origin, '/git/.hidden.git/info/refs?service=git-upload-pack');
      await rawRequest(probe.origin, '/git/ok-slug.git/info/refs?service=git-upload-pack');
      expect(seen).toEqual(['ok-slug']);
    } finally {
      await probe.close();
    }
  });
});

describe('access: token', () => {
  const infoRefs = '/git/private.git/info/refs?service=git-upload-pack';
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('answers 401 with a Basic challenge when no credentials are given', async () => {
    const before = server.spawns.length;
    const res = await rawRequest(server.origin, infoRefs);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="syncline"');
    const post = await rawRequest(server.origin, '/git/private.git/git-upload-pack', {
      headers: V2_HEADERS,
      body: v2FetchRequest([tip]),
    });
    expect(post.status).toBe(401);
    expect(server.spawns.length).toBe(before);
  });

  it('answers 401 to a wrong token, an empty password, a bearer token or garbage', async () => {
    const before = server.spawns.length;
    for (const authorization of [
      basic('x', 'wrong-token'),
      basic(TOKEN, ''),
      `Bearer ${TOKEN}`,
      'Basic !!!notbase64',
      `Basic ${Buffer.from(TOKEN).toString('base64')}`,
    ]) {
      const res = await rawRequest(server.origin, infoRefs, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="syncline"');
    }
    expect(server.spawns.length).toBe(before);
  });

  it('accepts any user name with a viewer token as password', async () => {
    for (const user of ['x', 'oauth2', '']) {
      const res = await rawRequest(server.origin, infoRefs, { headers: { authorization: basic(user, TOKEN) } });
      expect(res.status).toBe(200);
    }
    expect(server.authCalls.at(-1)).toEqual({ password: TOKEN, source: 'private-source' });
  });

  it('lets git clone with the token and fails cleanly without it', async () => {
    const dest = join(work, 'private.git');
    await clientOk(work, ['clone', '--bare', server.url('private', { user: 'anyone', password: TOKEN }), dest]);
    expect(await clientOk(dest, ['rev-parse', 'refs/heads/main'])).toBe(tip);
    const denied = await client(work, ['ls-remote', server.url('private')]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Authentication failed|could not read Username|401/);
    const wrong = await client(work, ['ls-remote', server.url('private', { password: 'not-the-token' })]);
    expect(wrong.code).not.toBe(0);
  });

  it('does not check tokens for public mirrors', async () => {
    const calls = server.authCalls.length;
    const res = await rawRequest(server.origin, '/git/site.git/info/refs?service=git-upload-pack', {
      headers: { authorization: basic('x', 'whatever') },
    });
    expect(res.status).toBe(200);
    expect(server.authCalls.length).toBe(calls);
  });
});

describe('objects not reachable from the mirror', () => {
  let secretCommit: string;
  let secretBlob: string;
  let oldCommit: string;
  let dir: string;

  beforeAll(async () => {
    const upstream = await makeRepo({ name: 'leaky' });
    oldCommit = await commitFiles(upstream, { 'app.yaml': 'replicas: 1\n' }, 'base');
    await commitFiles(upstream, { 'app.yaml': 'replicas: 2\n' }, 'scale');
    await createBranch(upstream, 'oops');
    secretCommit = await commitFiles(upstream, { 'secret.txt': 'password=hunter2-leaked\n' }, 'leak', { branch: 'oops' });
    secretBlob = await git(upstream.workDir, ['rev-parse', `${secretCommit}:secret.txt`]);
    // Cloned and maintained: the leak is in the bitmapped pack.
    dir = await mirrorOf(upstream, mirrorsDir, 'leaky');
    // The leak is removed upstream; the mirror prunes the branch but still has the objects.
    // (keepMs 0: no grace period for replaced tips — with the default, the old tip stays
    // fetchable by id, never advertised, for mirror_keep_minutes; see hardening.test.ts.)
    // maintain false: as after a sync's fetch, before the mirror scheduler's next pass — the
    // bitmaps are stale and still cover the leak.
    await deleteBranch(upstream, 'oops');
    await mirrorOf(upstream, mirrorsDir, 'leaky', { keepMs: 0, maintain: false });
    await git(dir, ['cat-file', '-e', secretCommit]);
    await git(dir, ['cat-file', '-e', secretBlob]);
    server.mirrors.set('leaky', { dir, access: 'public', source: 'leaky' });
  });

  for (const version of ['2', '0']) {
    it(`refuses a dangling commit by id (protocol v${version})`, async () => {
      const dest = join(work, `leak-commit-v${version}`);
      await clientOk(work, ['init', '--quiet', '--bare', dest]);
      const res = await client(dest, ['-c', `protocol.version=${version}`, 'fetch', server.url('leaky'), secretCommit]);
      expect(res.code).not.toBe(0);
      expect((await client(dest, ['cat-file', '-e', secretCommit])).code).not.toBe(0);
      expect((await client(dest, ['cat-file', '-e', secretBlob])).code).not.toBe(0);
      if (version === '2') expect(res.stderr).toContain('not reachable from any branch or tag');
      else expect(res.stderr).toMatch(/not our ref|unadvertised object/);
    });

    it(`serves a reachable, non-tip commit by id (protocol v${version})`, async () => {
      const dest = join(work, `old-commit-v${version}`);
      await clientOk(work, ['init', '--quiet', '--bare', dest]);
      await clientOk(dest, ['-c', `protocol.version=${version}`, 'fetch', server.url('leaky'), oldCommit]);
      await clientOk(dest, ['cat-file', '-e', oldCommit]);
    });
  }

  it('refuses a dangling blob by id (protocol v2, as a partial clone would ask)', async () => {
    const dest = join(work, 'leak-blob');
    await clientOk(work, ['clone', '--quiet', '--bare', '--filter=blob:none', server.url('leaky'), dest]);
    const res = await client(dest, ['fetch', '--filter=blob:none', server.url('leaky'), secretBlob]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('not reachable from any branch or tag');
    expect((await client(dest, ['cat-file', '-e', secretBlob])).code).not.toBe(0);
  });

  it('refuses a dangling object in a raw v2 fetch request', async () => {
    for (const want of [secretCommit, secretBlob, 'f'.repeat(40)]) {
      const res = await rawRequest(server.origin, '/git/leaky.git/git-upload-pack', {
        headers: V2_HEADERS,
        body: v2FetchRequest([want]),
      });
      expect(res.body.includes(Buffer.from('PACK'))).toBe(false);
      expect(res.body.toString('latin1')).not.toContain('hunter2');
    }
  });
});

describe('objects not reachable from the mirror, with fresh reachability bitmaps', () => {
  let upstream: FixtureRepo;
  let dir: string;
  let secretCommit: string;
  let secretBlob: string;
  let oldBlob: string;

  beforeAll(async () => {
    upstream = await makeRepo({ name: 'bitmapped' });
    await commitFiles(upstream, { 'app.yaml': 'replicas: 1\n', 'other.yaml': 'x: 1\n' }, 'base');
    oldBlob = await git(upstream.workDir, ['rev-parse', 'HEAD:app.yaml']);
    await commitFiles(upstream, { 'app.yaml': 'replicas: 2\n' }, 'scale');
    dir = await mirrorOf(upstream, mirrorsDir, 'bitmapped');
    // A sync fetches a leak (a few objects: stored loose), which is removed upstream before the
    // scheduler's next pass; that pass repacks what the refs reach and writes fresh bitmaps,
    // but the unreachable loose objects stay on disk until a gc prunes them.
    await createBranch(upstream, 'oops');
    secretCommit = await commitFiles(upstream, { 'secret.txt': 'password=bitmap-leaked\n' }, 'leak', { branch: 'oops' });
    secretBlob = await git(upstream.workDir, ['rev-parse', `${secretCommit}:secret.txt`]);
    await mirrorOf(upstream, mirrorsDir, 'bitmapped', { maintain: false });
    await deleteBranch(upstream, 'oops');
    await mirrorOf(upstream, mirrorsDir, 'bitmapped', { keepMs: 0 });
    server.mirrors.set('bitmapped', { dir, access: 'public', source: 'bitmapped' });
  });

  it('the mirror has fresh bitmaps (a second pass is a no-op) and still holds the unreachable objects', async () => {
    const packs = await readdir(join(dir, 'objects', 'pack'));
    expect(packs.filter((f) => f.endsWith('.bitmap'))).toHaveLength(1);
    expect(packs.filter((f) => f.endsWith('.pack'))).toHaveLength(1);
    expect(await maintainMirror(dir)).toBe(false);
    await git(dir, ['cat-file', '-e', secretCommit]);
    await git(dir, ['cat-file', '-e', secretBlob]);
  });

  for (const version of ['2', '0']) {
    it(`refuses the unreachable commit by id (protocol v${version})`, async () => {
      const dest = join(work, `bitmap-leak-v${version}`);
      await clientOk(work, ['init', '--quiet', '--bare', dest]);
      const res = await client(dest, ['-c', `protocol.version=${version}`, 'fetch', server.url('bitmapped'), secretCommit]);
      expect(res.code).not.toBe(0);
      expect((await client(dest, ['cat-file', '-e', secretBlob])).code).not.toBe(0);
    });
  }

  it('refuses the unreachable blob, and serves an old reachable blob to a partial clone', async () => {
    const dest = join(work, 'bitmap-partial');
    await clientOk(work, ['clone', '--quiet', '--bare', '--filter=blob:none', server.url('bitmapped'), dest]);
    // A lazy fetch of a blob only history reaches (not any tip's tree).
    expect(await clientOk(dest, ['cat-file', '-p', oldBlob])).toBe('replicas: 1');
    const res = await client(dest, ['fetch', '--filter=blob:none', server.url('bitmapped'), secretBlob]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('not reachable from any branch or tag');
    expect((await client(dest, ['cat-file', '-e', secretBlob])).code).not.toBe(0);
    for (const want of [secretCommit, secretBlob]) {
      const raw = await rawRequest(server.origin, '/git/bitmapped.git/git-upload-pack', { headers: V2_HEADERS, body: v2FetchRequest([want]) });
      expect(raw.body.includes(Buffer.from('PACK'))).toBe(false);
      expect(raw.body.toString('latin1')).not.toContain('bitmap-leaked');
    }
  });

  it('an update rewrites the bitmaps; an unchanged mirror is left alone', async () => {
    await commitFiles(upstream, { 'app.yaml': 'replicas: 3\n' }, 'scale again');
    await mirrorOf(upstream, mirrorsDir, 'bitmapped', { maintain: false });
    expect(await maintainMirror(dir)).toBe(true);
    expect(await maintainMirror(dir)).toBe(false);
  });
});
