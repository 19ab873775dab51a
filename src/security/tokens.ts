import crypto from 'node:crypto';

/** API tokens: `syl_` + 32 random bytes; only a SHA-256 hash is stored. */
export function generateToken(): string {
  return `syl_${crypto.randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  // One-shot hash (Node ≥ 20.12): same digest as createHash().update().digest(), a fraction of the cost.
  return crypto.hash('sha256', token, 'hex');
}

/**
 * Constant-time equality of two token hashes (hex strings of one length): no early exit and no
 * Buffer per comparison (a request compares its token's hash with every fixed token's).
 */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}
