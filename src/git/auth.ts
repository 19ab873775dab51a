/**
 * Credentials for git, and the only way they reach it: an `http.<origin>.extraHeader` config
 * entry passed through the environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n). Never argv (visible in
 * /proc/<pid>/cmdline to every local user), never the URL (git writes it to FETCH_HEAD and
 * config), never `.git/config` (persists on disk).
 *
 * GitHub App credentials are exchanged for an installation token by the caller; by the time
 * they reach this module they are `{type:'token', provider:'github'}`.
 */
import { SynclineError } from '../errors.js';
import { registerBasicAuthSecret } from '../security/redact.js';

export type GitAuth =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  | { type: 'token'; token: string; provider?: 'github' | 'gitlab' | 'gitea' | 'git' };

/** One git config entry set through the environment. */
export interface GitConfigEntry {
  key: string;
  value: string;
}

/**
 * Username paired with a token in HTTP Basic auth. GitHub and Gitea accept any username with
 * `x-access-token` being the documented one; GitLab wants `oauth2` for OAuth/project tokens.
 */
export function tokenUsername(provider: string | undefined): string {
  return provider === 'gitlab' ? 'oauth2' : 'x-access-token';
}

/**
 * The Basic credential pair for `auth`, or null when no credential applies. Registers the secret
 * and its base64 header form with redaction as a side effect, so any later error or log line
 * that echoes them is masked.
 */
export function basicCredentials(auth: GitAuth | undefined): { username: string; password: string } | null {
  if (!auth || auth.type === 'none') return null;
  const pair =
    auth.type === 'basic'
      ? { username: auth.username, password: auth.password }
      : { username: tokenUsername(auth.provider), password: auth.token };
  if (pair.username.includes(':') || /[\r\n]/.test(pair.username) || /[\r\n]/.test(pair.password)) {
    // A colon in the username or a newline anywhere would corrupt the header (or inject another).
    throw new SynclineError('invalid_credentials', 'Credentials contain characters that cannot be sent to git');
  }
  registerBasicAuthSecret(pair.username, pair.password);
  return pair;
}

/**
 * `scheme://host[:port]/` of an http(s) URL: the config key scope for the auth header. Scoping to
 * the origin rather than the full URL keeps the header applied when users write the URL with or
 * without `.git` or a trailing slash, and never sends it to another host.
 * Returns null for non-HTTP URLs (ssh, scp-style, file), which carry no header.
 */
export function httpOrigin(url: string): string | null {
  if (!/^https?:\/\//i.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  // The exact origin, port spelled out: the header never applies to another port or scheme.
  return `${parsed.protocol}//${parsed.hostname}:${port}/`;
}

/** Config entries that authenticate git to `url`; empty when there is nothing to send. */
export function authConfig(url: string | undefined, auth: GitAuth | undefined): GitConfigEntry[] {
  const creds = basicCredentials(auth);
  if (!creds || !url) return [];
  const origin = httpOrigin(url);
  if (!origin) return [];
  const encoded = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  return [{ key: `http.${origin}.extraHeader`, value: `Authorization: Basic ${encoded}` }];
}

/**
 * Refuses URLs git could mistake for an option, and http(s) URLs carrying a password (which
 * would then be stored in the mirror's config and FETCH_HEAD). Policy on hosts/schemes lives in
 * security/, this only guards the engine.
 */
export function assertSafeRemoteUrl(url: string): void {
  if (!url || url.startsWith('-') || /[\0\r\n]/.test(url)) {
    throw new SynclineError('invalid_source_url', 'Source URL is not a valid git URL');
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      if (parsed.password) {
        throw new SynclineError(
          'invalid_source_url',
          'Source URL must not contain credentials; configure them as source auth instead',
        );
      }
    } catch (err) {
      if (err instanceof SynclineError) throw err;
      // Not parseable by WHATWG URL (e.g. ssh://git@host:path): leave it to git.
    }
  }
}
