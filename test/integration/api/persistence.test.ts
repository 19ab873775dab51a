/**
 * Migrations are harmless to repeat, and a restart keeps data and the secret key (so stored
 * credentials still decrypt).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/load.js';
import { SECRET_KEY_FILE } from '../../../src/security/secret-box.js';
import { openContext } from '../../../src/app-context.js';
import { migrationProvider } from '../../../src/store/migrations/index.js';
import { getSourceRow, sourceCredentials, sourceWebhookSecret } from '../../../src/store/sources.js';
import { makeTestApp, type TestApp } from '../../helpers/app.js';
import { DIALECTS, dropSchema, freshSchemaName, testPgUrl } from '../../helpers/db.js';
import { createSource, putNamespace, REPO_URL, rowCounts, TEST_ALLOWED_HOSTS } from './support.js';

const MIGRATE_ON_GO = new URL('./fixtures/migrate-on-go.ts', import.meta.url).pathname;

/** Starts `count` processes that open the database, then migrate it all at the same moment. */
async function migrateTogether(count: number, url: string, schema?: string): Promise<{ ok: boolean; applied?: string[]; error?: string }[]> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', MIGRATE_ON_GO, url, ...(schema ? [schema] : [])], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const outputs = children.map((child) => {
    let out = '';
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ready\n')) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited before ready: ${out}`)));
    });
    const done = new Promise<string>((resolve) => child.on('close', () => resolve(out)));
    return { child, ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const o of outputs) o.child.stdin.end('go\n');
  const texts = await Promise.all(outputs.map((o) => o.done));
  return texts.map((t) => JSON.parse(t.trim().split('\n').at(-1)!));
}

const SECRET_TOKEN = 'ghp_restart-survivor-token-123456';
const settings = { allowed_hosts: TEST_ALLOWED_HOSTS };

for (const dialect of DIALECTS) {
  describe(`${dialect}: migrations and restart`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
    });
    const open = async (opts: Parameters<typeof makeTestApp>[1] = {}): Promise<TestApp & { schema?: string }> => {
      const t = await makeTestApp(dialect, { settings, ...opts });
      // Idempotent, so a test may close early (a restart) and the cleanup still runs safely.
      let closing: Promise<void> | undefined;
      const close = t.close.bind(t);
      t.close = () => (closing ??= close());
      cleanups.push(() => t.close());
      return t;
    };

    it('running the migrations again is a no-op that keeps every row', async () => {
      const t = await open();
      await createSource(t, { name: 'shop', url: REPO_URL });
      await putNamespace(t, 'shop.prod', { source: 'shop' });
      const before = await rowCounts(t);
      expect(await t.ctx.db.migrate()).toEqual([]);
      expect(await t.ctx.db.migrate()).toEqual([]);
      expect(await rowCounts(t)).toEqual(before);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod', headers: t.auth() })).statusCode).toBe(200);
    });

    it('a second context on the same database migrates nothing and sees the data', async () => {
      const t = await open();
      await createSource(t, { name: 'shop', url: REPO_URL });
      const second = await openContext(t.settings, t.schema ? { schema: t.schema } : {});
      try {
        expect(await second.db.migrate()).toEqual([]);
        const row = await getSourceRow(second.db.db, 'shop');
        expect(row.url).toBe(REPO_URL);
      } finally {
        await second.db.close();
      }
      // The first one still works.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/sources/shop', headers: t.auth() })).statusCode).toBe(200);
    });

    // SQLite runs each connection synchronously in one thread, so two in one process cannot wait
    // for each other; the cross-process case is the test below.
    it.skipIf(dialect === 'sqlite')('two contexts opening a fresh database at once agree on one schema', async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-mig-'));
      const schema = dialect === 'postgres' ? freshSchemaName() : undefined;
      cleanups.push(async () => {
        if (schema) await dropSchema(schema);
        fs.rmSync(dataDir, { recursive: true, force: true });
      });
      const s = loadSettings({
        env: {},
        file: '/dev/null',
        overrides: { data_dir: dataDir, database_url: dialect === 'postgres' ? testPgUrl() : `sqlite:${path.join(dataDir, 'syncline.db')}` },
      });
      const opts = schema ? { schema } : {};
      const ctxs = await Promise.all([openContext(s, opts), openContext(s, opts)]);
      try {
        for (const ctx of ctxs) {
          const tables = (await ctx.db.db.introspection.getTables()).map((x) => x.name);
          expect(tables).toEqual(expect.arrayContaining(['tokens', 'sources', 'kinds', 'namespaces', 'audit_events']));
          expect(await ctx.db.migrate()).toEqual([]);
        }
        // Both contexts also read the same secret key (the file is created exclusively, once).
        const sealed = ctxs[0]!.box.seal('shared', 'ctx');
        expect(ctxs[1]!.box.open(sealed, 'ctx')).toBe('shared');
      } finally {
        for (const ctx of ctxs) await ctx.db.close();
      }
    });

    it('processes migrating a fresh database at the same moment all succeed; one applies the migrations', async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-mig-'));
      const schema = dialect === 'postgres' ? freshSchemaName() : undefined;
      cleanups.push(async () => {
        if (schema) await dropSchema(schema);
        fs.rmSync(dataDir, { recursive: true, force: true });
      });
      const url = dialect === 'postgres' ? testPgUrl() : `sqlite:${path.join(dataDir, 'syncline.db')}`;
      const results = await migrateTogether(3, url, schema);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      const all = Object.keys(await migrationProvider('sqlite').getMigrations()).sort();
      expect(results.map((r) => r.applied).sort()).toEqual([[], [], all]);
    });

    it('a restart keeps data, tokens and the secret key; credentials still decrypt', async () => {
      const first = await open({ keepData: true });
      const { dataDir, schema } = first;
      cleanups.push(async () => {
        if (schema) await dropSchema(schema);
        fs.rmSync(dataDir, { recursive: true, force: true });
      });
      await createSource(first, { name: 'shop', url: REPO_URL, auth: { type: 'token', token: SECRET_TOKEN }, webhook_secret: 'restart-webhook-secret' });
      await putNamespace(first, 'shop.prod', { source: 'shop', path: 'config', auto_sync: true });
      const viewer = await first.token('viewer');
      const keyFile = path.join(dataDir, SECRET_KEY_FILE);
      const keyBefore = fs.readFileSync(keyFile, 'utf8');
      const countsBefore = await rowCounts(first);
      await first.close();

      const second = await open({ dataDir, ...(schema ? { schema } : {}), keepData: true });
      expect(await rowCounts(second)).toEqual(countsBefore);
      expect(fs.readFileSync(keyFile, 'utf8')).toBe(keyBefore);
      expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);

      const ns = await second.app.inject({ method: 'GET', url: '/api/v1/namespaces/shop.prod', headers: second.auth(viewer) });
      expect(ns.statusCode).toBe(200);
      expect(ns.json()).toMatchObject({ source: 'shop', path: 'config', auto_sync: true });

      const row = await getSourceRow(second.ctx.db.db, 'shop');
      expect(sourceCredentials(second.ctx.box, row).secrets).toEqual({ token: SECRET_TOKEN });
      expect(sourceWebhookSecret(second.ctx.box, row)).toBe('restart-webhook-secret');
    });

    it('the generated key file is 0600 and only created once', async () => {
      const t = await open();
      const keyFile = path.join(t.dataDir, SECRET_KEY_FILE);
      const stat = fs.statSync(keyFile);
      expect(stat.mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(keyFile, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    });

    it('with SYNCLINE_SECRET_KEY set, no key file is written, and another key cannot decrypt', async () => {
      const key = 'ab'.repeat(32);
      const first = await open({ keepData: true, settings: { ...settings, secret_key: key } });
      const { dataDir, schema } = first;
      cleanups.push(async () => {
        if (schema) await dropSchema(schema);
        fs.rmSync(dataDir, { recursive: true, force: true });
      });
      await createSource(first, { name: 'shop', url: REPO_URL, auth: { type: 'token', token: SECRET_TOKEN } });
      expect(fs.existsSync(path.join(dataDir, SECRET_KEY_FILE))).toBe(false);
      await first.close();

      const same = await open({ dataDir, ...(schema ? { schema } : {}), keepData: true, settings: { ...settings, secret_key: key } });
      expect(sourceCredentials(same.ctx.box, await getSourceRow(same.ctx.db.db, 'shop')).secrets.token).toBe(SECRET_TOKEN);
      await same.close();

      const other = await open({ dataDir, ...(schema ? { schema } : {}), keepData: true, settings: { ...settings, secret_key: 'cd'.repeat(32) } });
      const r = await getSourceRow(other.ctx.db.db, 'shop');
      expect(() => sourceCredentials(other.ctx.box, r)).toThrow();
      // Reading the source through the API does not need the key.
      expect((await other.app.inject({ method: 'GET', url: '/api/v1/sources/shop', headers: other.auth() })).json().auth.configured).toBe(true);
    });
  });
}
