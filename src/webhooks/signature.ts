/**
 * Webhook signatures, checked on the raw body before anything is parsed, in constant time.
 * GitHub's scheme via @octokit/webhooks-methods; Gitea's bare hex HMAC and GitLab's shared token
 * compared with timingSafeEqual over fixed-length digests.
 */
import crypto from 'node:crypto';
import { verify as verifyGithub } from '@octokit/webhooks-methods';

export type WebhookProvider = 'github' | 'gitea' | 'gitlab';
export const WEBHOOK_PROVIDERS: readonly WebhookProvider[] = ['github', 'gitea', 'gitlab'];

/** A secret that may vouch for a delivery: the global one (any repo) or a source's (its repo only). */
export interface CandidateSecret {
  secret: string;
  /** null = the global SYNCLINE_WEBHOOK_SECRET. */
  source: string | null;
}

type Headers = Record<string, string | string[] | undefined>;
const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

const sha256 = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest();
/** Constant-time equality of two strings of any length (compares their digests). */
function safeEqual(a: string, b: string): boolean {
  return crypto.timingSafeEqual(sha256(a), sha256(b));
}

function hmacHex(secret: string, body: Buffer): string {
  return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Which candidate signed this delivery, or null (missing or bad signature). Every candidate is
 * tried, so the time taken does not depend on which one (if any) matched.
 */
export async function matchSignature(
  provider: WebhookProvider,
  headers: Headers,
  rawBody: Buffer,
  candidates: readonly CandidateSecret[],
): Promise<CandidateSecret | null> {
  let match: CandidateSecret | null = null;
  if (provider === 'gitlab') {
    const token = header(headers, 'x-gitlab-token');
    if (!token) return null;
    for (const c of candidates) if (safeEqual(token, c.secret) && !match) match = c;
    return match;
  }
  const githubSig = header(headers, 'x-hub-signature-256');
  if (provider === 'gitea') {
    const sig = header(headers, 'x-gitea-signature');
    if (sig) {
      const given = sig.trim().toLowerCase();
      for (const c of candidates) if (safeEqual(given, hmacHex(c.secret, rawBody)) && !match) match = c;
      return match;
    }
  }
  if (!githubSig || !/^sha256=[0-9a-f]{64}$/i.test(githubSig)) return null;
  const text = rawBody.toString('utf8');
  for (const c of candidates) {
    // verify() compares with timingSafeEqual.
    if ((await verifyGithub(c.secret, text, githubSig).catch(() => false)) && !match) match = c;
  }
  return match;
}

export function deliveryHeaders(provider: WebhookProvider, headers: Headers): { event: string | null; id: string | null } {
  switch (provider) {
    case 'github':
      return { event: header(headers, 'x-github-event') ?? null, id: header(headers, 'x-github-delivery') ?? null };
    case 'gitea':
      return {
        event: header(headers, 'x-gitea-event') ?? header(headers, 'x-gogs-event') ?? header(headers, 'x-github-event') ?? null,
        id: header(headers, 'x-gitea-delivery') ?? header(headers, 'x-github-delivery') ?? null,
      };
    case 'gitlab':
      return { event: header(headers, 'x-gitlab-event') ?? null, id: header(headers, 'x-gitlab-event-uuid') ?? header(headers, 'x-gitlab-webhook-uuid') ?? null };
  }
}
