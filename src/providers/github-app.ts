import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { BadRequestError, UpstreamError } from '../errors.js';
import { registerSecret } from '../security/redact.js';

/** REST base URL for a GitHub host: api.github.com for github.com, /api/v3 on Enterprise. */
export function githubApiBaseUrl(repoUrl: string): string {
  const host = /^(?:https?:\/\/|ssh:\/\/)?(?:[^@/]+@)?([^/:]+)/i.exec(repoUrl)?.[1]?.toLowerCase() ?? 'github.com';
  return host === 'github.com' ? 'https://api.github.com' : `https://${host}/api/v3`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}
const cache = new Map<string, CachedToken>();

/**
 * An installation access token for a GitHub App (valid ~1 h; cached until 5 minutes before
 * expiry). The token is registered for redaction before anyone can log it.
 */
export async function githubAppInstallationToken(opts: {
  appId: string;
  installationId: string;
  privateKey: string;
  baseUrl: string;
  /** The guarded fetch (security/outbound-http.ts) every forge call must go through. */
  fetch?: typeof fetch;
}): Promise<string> {
  const key = `${opts.baseUrl}|${opts.appId}|${opts.installationId}`;
  const hit = cache.get(key);
  if (hit && hit.expiresAt - 5 * 60_000 > Date.now()) return hit.token;
  try {
    const octokit = new Octokit({ baseUrl: opts.baseUrl, ...(opts.fetch ? { request: { fetch: opts.fetch } } : {}) });
    const auth = createAppAuth({
      appId: opts.appId,
      privateKey: opts.privateKey,
      installationId: opts.installationId,
      request: octokit.request,
    });
    const result = await auth({ type: 'installation' });
    registerSecret(result.token);
    cache.set(key, { token: result.token, expiresAt: Date.parse(result.expiresAt) || Date.now() + 30 * 60_000 });
    return result.token;
  } catch (err) {
    const status = (err as { status?: number }).status;
    const details = { app_id: opts.appId, installation_id: opts.installationId, ...(status ? { status } : {}) };
    // GitHub refusing the app's key or installation is auth_failed (someone must fix the
    // source); no answer or a 5xx is a retryable fetch_failed.
    if (status !== undefined && status >= 400 && status < 500) {
      throw new BadRequestError('auth_failed', `GitHub App authentication failed (HTTP ${status})`, details);
    }
    throw new UpstreamError('fetch_failed', `GitHub App authentication failed${status ? ` (HTTP ${status})` : ''}`, details);
  }
}
