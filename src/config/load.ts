import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SETTING_KEYS, settingsSchema, type Settings } from './schema.js';
import { registerSecret } from '../security/redact.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Path of syncline.yaml; defaults to $SYNCLINE_CONFIG or ./syncline.yaml when present. */
  file?: string;
  /** Values that win over everything (used by tests and CLI flags). */
  overrides?: Partial<Record<keyof Settings, unknown>>;
}

export interface ResolvedSettings extends Settings {
  /** Absolute data dir. */
  data_dir: string;
  /** Always set after loading: defaults to sqlite:<data_dir>/syncline.db. */
  database_url: string;
  /** Absolute mirror dir: SYNCLINE_MIRROR_DIR or <data_dir>/mirrors. */
  mirror_dir: string;
  /** Where the data dir (or database URL) came from: the env var / file key, or 'default'. */
  data_dir_origin?: string;
}

export function envName(key: string): string {
  return `SYNCLINE_${key.toUpperCase()}`;
}

/**
 * Reads settings from syncline.yaml (optional) and the environment (wins), validates them and
 * fails with a message naming each bad setting by the name the user wrote it under.
 */
export function loadSettings(opts: LoadOptions = {}): ResolvedSettings {
  const env = opts.env ?? process.env;
  const filePath = opts.file ?? env.SYNCLINE_CONFIG ?? (fs.existsSync('syncline.yaml') ? 'syncline.yaml' : undefined);
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};

  if (filePath) {
    let doc: unknown;
    try {
      doc = parseYaml(fs.readFileSync(filePath, 'utf8'));
    } catch (err) {
      throw new ConfigError(`Cannot read config file ${filePath}: ${(err as Error).message}`);
    }
    if (doc != null && (typeof doc !== 'object' || Array.isArray(doc))) {
      throw new ConfigError(`Config file ${filePath} must be a mapping of setting: value`);
    }
    for (const [k, v] of Object.entries((doc ?? {}) as Record<string, unknown>)) {
      raw[k] = v;
      origin[k] = `${k} in ${filePath}`;
    }
  }
  for (const key of SETTING_KEYS) {
    const v = env[envName(key)];
    if (v !== undefined && v !== '') {
      raw[key] = v;
      origin[key] = envName(key);
    }
  }
  for (const [k, v] of Object.entries(opts.overrides ?? {})) {
    if (v !== undefined) {
      raw[k] = v;
      origin[k] = k;
    }
  }

  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0];
      if (issue.code === 'unrecognized_keys') {
        return `unknown setting(s) ${issue.keys.map((k) => origin[k] ?? k).join(', ')}`;
      }
      const name = typeof key === 'string' ? (origin[key] ?? envName(key)) : 'config';
      return `${name}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  - ${lines.join('\n  - ')}`);
  }
  const s = parsed.data;
  const dataDir = path.resolve(s.data_dir);
  registerSecret(s.admin_token);
  registerSecret(s.secret_key);
  registerSecret(s.webhook_secret);
  return {
    ...s,
    data_dir: dataDir,
    database_url: s.database_url ?? `sqlite:${path.join(dataDir, 'syncline.db')}`,
    mirror_dir: path.resolve(s.mirror_dir ?? path.join(dataDir, 'mirrors')),
    data_dir_origin: origin['database_url'] ?? origin['data_dir'] ?? 'default',
  };
}
