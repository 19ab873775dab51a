import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../../../src/config/load.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function yamlFile(text: string): string {
  const file = path.join(dir, `syncline-${++n}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings', () => {
  it('has working defaults with no file and no env', () => {
    const s = loadSettings({ env: {}, file: '/dev/null' });
    expect(s).toMatchObject({
      port: 7420,
      host: '0.0.0.0',
      data_dir: path.resolve('./data'),
      database_url: `sqlite:${path.join(path.resolve('./data'), 'syncline.db')}`,
      mirror_dir: path.join(path.resolve('./data'), 'mirrors'),
      allowed_hosts: [],
      allow_file_sources: false,
      log_level: 'info',
      body_limit: 1024 * 1024,
    });
    expect(s.admin_token).toBeUndefined();
    expect(s.secret_key).toBeUndefined();
  });

  it('reads syncline.yaml, and the environment wins over it', () => {
    const file = yamlFile('port: 8000\nhost: 127.0.0.1\nlog_level: debug\nallowed_hosts: [git.corp, "*.internal"]\n');
    const fromFile = loadSettings({ env: {}, file });
    expect(fromFile).toMatchObject({ port: 8000, host: '127.0.0.1', log_level: 'debug', allowed_hosts: ['git.corp', '*.internal'] });

    const s = loadSettings({ env: { SYNCLINE_PORT: '9000', SYNCLINE_ALLOWED_HOSTS: 'a.example, b.example' }, file });
    expect(s.port).toBe(9000);
    expect(s.allowed_hosts).toEqual(['a.example', 'b.example']);
    expect(s.host).toBe('127.0.0.1'); // not set in env: the file's value stays
  });

  it('finds the file through SYNCLINE_CONFIG', () => {
    const file = yamlFile('port: 8123\n');
    expect(loadSettings({ env: { SYNCLINE_CONFIG: file } }).port).toBe(8123);
  });

  it('ignores empty env values', () => {
    const file = yamlFile('port: 8001\n');
    expect(loadSettings({ env: { SYNCLINE_PORT: '' }, file }).port).toBe(8001);
  });

  it('reads every documented env setting', () => {
    const key = 'ab'.repeat(32);
    const s = loadSettings({
      env: {
        SYNCLINE_PORT: '7000',
        SYNCLINE_HOST: '::',
        SYNCLINE_DATA_DIR: '/var/lib/syncline',
        SYNCLINE_DATABASE_URL: 'postgres://u@db:5432/syncline',
        SYNCLINE_SECRET_KEY: key,
        SYNCLINE_ADMIN_TOKEN: 'a-root-token-of-enough-length',
        SYNCLINE_ALLOWED_HOSTS: 'git.corp',
        SYNCLINE_ALLOW_FILE_SOURCES: 'true',
        SYNCLINE_PUBLIC_URL: 'https://syncline.example.com',
        SYNCLINE_LOG_LEVEL: 'warn',
      },
      file: '/dev/null',
    });
    expect(s).toMatchObject({
      port: 7000,
      host: '::',
      data_dir: '/var/lib/syncline',
      database_url: 'postgres://u@db:5432/syncline',
      secret_key: key,
      admin_token: 'a-root-token-of-enough-length',
      allowed_hosts: ['git.corp'],
      allow_file_sources: true,
      public_url: 'https://syncline.example.com',
      log_level: 'warn',
      mirror_dir: '/var/lib/syncline/mirrors',
    });
  });

  it.each([
    ['SYNCLINE_PORT', 'abc'],
    ['SYNCLINE_PORT', '70000'],
    ['SYNCLINE_DATABASE_URL', 'mysql://db/x'],
    ['SYNCLINE_SECRET_KEY', 'too-short'],
    ['SYNCLINE_ADMIN_TOKEN', 'short'],
    ['SYNCLINE_ALLOW_FILE_SOURCES', 'maybe'],
    ['SYNCLINE_PUBLIC_URL', 'not a url'],
    ['SYNCLINE_LOG_LEVEL', 'loud'],
  ])('a bad %s (%j) fails with a message naming it', (name, value) => {
    const message = configError(() => loadSettings({ env: { [name]: value }, file: '/dev/null' }));
    expect(message).toMatch(new RegExp(`^  - ${name}: `, 'm'));
  });

  it('names a bad value by where it came from in the yaml', () => {
    const file = yamlFile('port: -1\n');
    expect(configError(() => loadSettings({ env: {}, file }))).toContain(`port in ${file}: `);
  });

  it('names an unknown key in the yaml', () => {
    const file = yamlFile('port: 8000\nlog_levle: debug\n');
    const message = configError(() => loadSettings({ env: {}, file }));
    expect(message).toContain(`unknown setting(s) log_levle in ${file}`);
  });

  it('reports every bad setting at once', () => {
    const message = configError(() => loadSettings({ env: { SYNCLINE_PORT: 'x', SYNCLINE_LOG_LEVEL: 'loud' }, file: '/dev/null' }));
    expect(message).toContain('SYNCLINE_PORT: ');
    expect(message).toContain('SYNCLINE_LOG_LEVEL: ');
  });

  it('refuses a file that is not a mapping, or not YAML', () => {
    expect(configError(() => loadSettings({ env: {}, file: yamlFile('- a\n- b\n') }))).toContain('must be a mapping');
    expect(configError(() => loadSettings({ env: {}, file: yamlFile('port: [1,\n') }))).toContain('Cannot read config file');
    expect(configError(() => loadSettings({ env: {}, file: path.join(dir, 'missing.yaml') }))).toContain('Cannot read config file');
  });

  it('accepts a base64 secret key as well as hex', () => {
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadSettings({ env: { SYNCLINE_SECRET_KEY: b64 }, file: '/dev/null' }).secret_key).toBe(b64);
  });
});
