import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeKey } from '../config/schema.js';
import { registerSecret } from './redact.js';

const VERSION = 'v1';

/**
 * AES-256-GCM encryption of credentials at rest. Ciphertext format: `v1:<iv>:<tag>:<data>` in
 * base64url, with the record's identity (e.g. `source:shop:token`) as associated data so a
 * ciphertext copied onto another row does not decrypt.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  seal(plaintext: string, context: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString('base64url'), tag.toString('base64url'), data.toString('base64url')].join(':');
  }

  open(sealed: string, context: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('Unrecognised ciphertext format');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    registerSecret(text);
    return text;
  }
}

export const SECRET_KEY_FILE = 'secret.key';

/**
 * The configured key, or the one kept in `<dataDir>/secret.key`, created once (mode 0600) when
 * neither exists. Creation is atomic so two processes starting together agree on one whole key.
 */
export function loadOrCreateSecretKey(dataDir: string, configured?: string): Buffer {
  if (configured) {
    const key = decodeKey(configured);
    if (!key) throw new Error('SYNCLINE_SECRET_KEY must be 32 bytes as 64 hex characters or base64');
    return key;
  }
  const file = path.join(dataDir, SECRET_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true });
  if (!fs.existsSync(file)) {
    // Written in full under a private name, then linked into place: link() fails if the key exists,
    // so a second process starting at the same moment never reads a half-written file.
    const pending = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`;
    fs.writeFileSync(pending, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(pending, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(pending, { force: true });
    }
  }
  const key = decodeKey(fs.readFileSync(file, 'utf8'));
  if (!key) throw new Error(`${file} does not hold a valid 32-byte key (64 hex characters)`);
  return key;
}
