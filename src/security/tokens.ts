import crypto from 'node:crypto';

/** API tokens: `syl_` + 32 random bytes; only a SHA-256 hash is stored. */
export function generateToken(): string {
  return `syl_${crypto.randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  // One-shot hash (Node ≥ 20.12): same digest as createHash().update().digest(), a fraction of the cost.
  return crypto.hash('sha256', token, 'hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}
