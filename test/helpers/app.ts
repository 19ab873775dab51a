import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadSettings, type ResolvedSettings } from '../../src/config/load.js';
import type { Settings } from '../../src/config/schema.js';
import { buildApp } from '../../src/server/app.js';
import type { AppContext } from '../../src/app-context.js';
import { openContext } from '../../src/app-context.js';
import { dropSchema, freshSchemaName, testPgUrl, type TestDialect } from './db.js';

export const ADMIN_TOKEN = 'root-admin-token-for-tests-0123456789';

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  settings: ResolvedSettings;
  dataDir: string;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  /** Creates a token through the API and returns its value. */
  token(role: 'viewer' | 'deployer' | 'admin', namespaces?: string[]): Promise<string>;
  auth(token?: string): { authorization: string };
  close(): Promise<void>;
}

export interface TestAppOptions {
  settings?: Partial<Record<keyof Settings, unknown>>;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  /** Reuse a PostgreSQL schema (restart tests). */
  schema?: string;
  keepData?: boolean;
}

/**
 * A real app on a real database: SQLite in a temp data dir, or a fresh PostgreSQL schema.
 * Logs are captured so tests can grep them for planted secrets.
 */
export async function makeTestApp(dialect: TestDialect, opts: TestAppOptions = {}): Promise<TestApp & { schema?: string }> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-test-'));
  const schema = dialect === 'postgres' ? (opts.schema ?? freshSchemaName()) : undefined;
  const settings = loadSettings({
    env: {},
    file: '/dev/null',
    overrides: {
      data_dir: dataDir,
      admin_token: ADMIN_TOKEN,
      log_level: 'info',
      database_url: dialect === 'postgres' ? testPgUrl() : `sqlite:${path.join(dataDir, 'syncline.db')}`,
      ...opts.settings,
    },
  });
  const ctx = await openContext(settings, schema ? { schema } : {});
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const app = await buildApp({ ctx, logStream });
  const auth = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });
  return {
    app,
    ctx,
    settings,
    dataDir,
    logs,
    schema,
    auth,
    async token(role, namespaces) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/tokens',
        headers: auth(),
        payload: { name: `${role}-${Math.random().toString(36).slice(2, 8)}`, role, ...(namespaces ? { namespaces } : {}) },
      });
      if (res.statusCode !== 201) throw new Error(`token create failed: ${res.body}`);
      return res.json().token as string;
    },
    async close() {
      await ctx.jobs.stop();
      await app.close();
      await ctx.db.close();
      if (!opts.keepData) {
        if (schema) await dropSchema(schema);
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
