import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET_KEY_FILE, SecretBox, loadOrCreateSecretKey } from '../../../src/security/secret-box.js';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-box-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('SecretBox', () => {
  const box = new SecretBox(crypto.randomBytes(32));

  it('round-trips, and the ciphertext is versioned and holds no plaintext', () => {
    const sealed = box.seal('ghp_plaintext-value', 'source:shop:auth');
    expect(sealed).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(sealed).not.toContain('plaintext');
    expect(box.open(sealed, 'source:shop:auth')).toBe('ghp_plaintext-value');
  });

  it('uses a fresh IV each time', () => {
    expect(box.seal('same', 'ctx')).not.toBe(box.seal('same', 'ctx'));
  });

  it('binds the ciphertext to its context (a value moved to another row does not open)', () => {
    const sealed = box.seal('secret', 'source:shop:auth');
    expect(() => box.open(sealed, 'source:billing:auth')).toThrow();
  });

  it('detects tampering', () => {
    const [v, iv, tag, data] = box.seal('secret-value', 'ctx').split(':');
    const flipped = Buffer.from(data!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => box.open([v, iv, tag, flipped.toString('base64url')].join(':'), 'ctx')).toThrow();
    expect(() => box.open('v2:a:b:c', 'ctx')).toThrow('Unrecognised ciphertext format');
    expect(() => box.open('garbage', 'ctx')).toThrow();
  });

  it('does not open with another key', () => {
    const sealed = box.seal('secret', 'ctx');
    expect(() => new SecretBox(crypto.randomBytes(32)).open(sealed, 'ctx')).toThrow();
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow();
  });
});

describe('loadOrCreateSecretKey', () => {
  it('processes creating the key at the same moment all read one whole key', async () => {
    const barrier = tmp();
    const dataDirs = Array.from({ length: 20 }, () => path.join(tmp(), 'data'));
    const script = path.join(import.meta.dirname, 'fixtures', 'load-key-at-once.ts');
    const children = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, barrier, ...dataDirs], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk));
      return new Promise<string[]>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}`)))));
    });
    while (fs.readdirSync(barrier).length < children.length) await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(path.join(barrier, 'go'), '');
    const results = await Promise.all(children);
    dataDirs.forEach((dir, i) => {
      const onDisk = fs.readFileSync(path.join(dir, SECRET_KEY_FILE), 'utf8').trim();
      for (const keys of results) expect(keys[i]).toBe(onDisk);
      expect(fs.readdirSync(dir)).toEqual([SECRET_KEY_FILE]);
    });
  });

  it('creates the key file once with mode 0600, then reuses it', () => {
    const dir = tmp();
    const first = loadOrCreateSecretKey(dir);
    const file = path.join(dir, SECRET_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first).toHaveLength(32);
    const text = fs.readFileSync(file, 'utf8');
    expect(loadOrCreateSecretKey(dir).equals(first)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it('creates the data dir if needed', () => {
    const dir = path.join(tmp(), 'nested', 'data');
    expect(loadOrCreateSecretKey(dir)).toHaveLength(32);
    expect(fs.existsSync(path.join(dir, SECRET_KEY_FILE))).toBe(true);
  });

  it('uses a configured key (hex or base64) and writes no file', () => {
    const dir = tmp();
    const raw = crypto.randomBytes(32);
    expect(loadOrCreateSecretKey(dir, raw.toString('hex')).equals(raw)).toBe(true);
    expect(loadOrCreateSecretKey(dir, raw.toString('base64')).equals(raw)).toBe(true);
    expect(fs.existsSync(path.join(dir, SECRET_KEY_FILE))).toBe(false);
  });

  it('refuses a corrupt key file instead of silently making a new key', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, SECRET_KEY_FILE), 'not a key\n', { mode: 0o600 });
    expect(() => loadOrCreateSecretKey(dir)).toThrow(/valid 32-byte key/);
  });
});
