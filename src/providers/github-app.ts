/**
 * GitHub App authentication (@octokit/auth-app): installation tokens for git fetches and API
 * calls. A token is cached until 5 minutes before it expires and minted once however many callers
 * ask at the same time; `installation_id` is optional — found from the repository
 * (`GET /repos/{owner}/{repo}/installation`, authenticated as the app) when absent.
 */
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/rest';
import { SynclineError } from '../errors.js';
import { registerSecret } from '../security/redact.js';
import { defaultApiUrl } from './api-url.js';
import type { FetchLike } from './http.js';

/** REST base URL for a GitHub host, keeping the port (api.github.com for github.com, /api/v3 on Enterprise). */
export function githubApiBaseUrl(repoUrl: string): string {
  return defaultApiUrl('github', repoUrl) ?? 'https://api.github.com';
}

interface CachedToken {
  token: string;
  installationId: string;
  expiresAt: number;
}
const cache = new Map<string, CachedToken>();
const inflight = new Map<string, Promise<CachedToken>>();
/**
 * Drops cached installation tokens of one App (`*`: all) — after a source's GitHub App credentials
 * changed or it was deleted, on this replica and (through the cache bus, topic `github_app`) on others.
 */
export function forgetGithubAppTokens(appId: string): void {
  for (const key of [...cache.keys()]) if (appId === '*' || key.split('|')[1] === appId) cache.delete(key);
}
/** Number of tokens minted (tests check "once under concurrency"). */
export const githubAppStats = { minted: 0, discovered: 0 };

export interface GithubAppOptions {
  appId: string;
  /** Found from `repo` when absent. */
  installationId?: string | null;
  privateKey: string;
  baseUrl: string;
  /** `owner/repo`, to discover the installation. */
  repo?: string | null;
  fetch?: FetchLike;
}

export async function githubAppInstallation(opts: GithubAppOptions): Promise<{ token: string; installationId: string }> {
  const key = `${opts.baseUrl}|${opts.appId}|${opts.installationId || `repo:${opts.repo ?? ''}`}`;
  const hit = cache.get(key);
  if (hit && hit.expiresAt - 5 * 60_000 > Date.now()) return hit;
  let p = inflight.get(key);
  if (!p) {
    p = mint(opts).finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  const t = await p;
  cache.set(key, t);
  return t;
}

/** Back-compat: the token only. */
export async function githubAppInstallationToken(opts: GithubAppOptions): Promise<string> {
  return (await githubAppInstallation(opts)).token;
}

async function mint(opts: GithubAppOptions): Promise<CachedToken> {
  const { request } = new Octokit({ baseUrl: opts.baseUrl, ...(opts.fetch ? { request: { fetch: opts.fetch } } : {}) });
  let stage = 'token';
  try {
    const auth = createAppAuth({ appId: opts.appId, privateKey: opts.privateKey, request });
    let installationId = opts.installationId || null;
    if (!installationId) {
      stage = 'installation';
      if (!opts.repo) throw new Error('no repository to discover the installation from');
      const [owner, repo] = opts.repo.split('/');
      const { token: jwt } = await auth({ type: 'app' });
      const res = await request('GET /repos/{owner}/{repo}/installation', {
        owner: owner!,
        repo: repo!,
        headers: { authorization: `bearer ${jwt}` },
      });
      installationId = String((res.data as { id: number }).id);
      githubAppStats.discovered++;
      stage = 'token';
    }
    const result = await auth({ type: 'installation', installationId });
    registerSecret(result.token);
    githubAppStats.minted++;
    return { token: result.token, installationId, expiresAt: Date.parse(result.expiresAt) || Date.now() + 30 * 60_000 };
  } catch (err) {
    if ((err as { code?: string }).code === 'runtime_sync_disabled') throw err;
    const status = (err as { status?: number }).status;
    const what = stage === 'installation' ? 'Finding the GitHub App installation for the repository' : 'GitHub App authentication';
    const details = { app_id: opts.appId, installation_id: opts.installationId ?? null, ...(status ? { status } : {}) };
    // GitHub refusing the app's key or installation is auth_failed (someone must fix the
    // source); no answer or a 5xx is a retryable fetch_failed.
    if (status !== undefined && status >= 400 && status < 500) {
      throw new SynclineError('auth_failed', `${what} failed (HTTP ${status})`, details);
    }
    throw new SynclineError('fetch_failed', `${what} failed${status ? ` (HTTP ${status})` : ''}`, details);
  }
}
