/**
 * Maps git's stderr to the API's stable codes. Git has no machine-readable failure reasons, so
 * this matches the messages git (2.30+) and the common forges print; anything unrecognised is a
 * generic, retryable `fetch_failed`.
 */
import { SynclineError } from '../errors.js';
import { redact } from '../security/redact.js';
import { GitError } from './git-error.js';
import { isRedirectFailure, redirectTarget, type RemotePin } from './remote.js';

export type GitFailureCode = 'auth_failed' | 'repo_not_found' | 'fetch_failed';

const AUTH_PATTERNS = [
  /authentication failed/i,
  /could not read (username|password)/i,
  /terminal prompts disabled/i,
  /\b(401|403)\b/,
  /permission denied/i,
  /access denied/i,
  /invalid username or password/i,
  /HTTP Basic: Access denied/i,
  /host key verification failed/i,
];

const NOT_FOUND_PATTERNS = [
  /\b404\b/,
  /repository .*not found/i,
  /not found/i,
  /does not appear to be a git repository/i,
  /no such (file or directory|repository)/i,
  /not a git repository/i,
  /could not find remote/i,
];

export function classifyGitError(stderr: string): GitFailureCode {
  // Auth first: GitHub answers a private repo without credentials with "Repository not found".
  // We can't tell that apart from a missing repo, so it stays repo_not_found unless an auth
  // marker appears too.
  if (AUTH_PATTERNS.some((p) => p.test(stderr))) return 'auth_failed';
  if (NOT_FOUND_PATTERNS.some((p) => p.test(stderr))) return 'repo_not_found';
  return 'fetch_failed';
}

/**
 * Converts a failure of a network git command (clone, fetch, ls-remote) into the API error:
 * `auth_failed` / `repo_not_found` are not retryable (fix the source), everything else — timeouts,
 * resets, 5xx — is a retryable `fetch_failed`. Non-git errors pass through untouched.
 */
export function toFetchError(err: unknown, sourceName: string): unknown {
  if (!(err instanceof GitError)) return err;
  const details = { source: sourceName, reason: err.reason, git: redact(err.message) };
  if (err.reason === 'exit') {
    const code = classifyGitError(err.stderr);
    if (code === 'auth_failed') {
      return new SynclineError('auth_failed', `Authentication to source '${sourceName}' failed: ${err.message}`, details);
    }
    if (code === 'repo_not_found') {
      return new SynclineError('repo_not_found', `Repository for source '${sourceName}' not found: ${err.message}`, details);
    }
  }
  return new SynclineError('fetch_failed', `Fetching source '${sourceName}' failed: ${err.message}`, details);
}

/** Throws the mapped error (typed as never for control flow). */
export function throwFetchError(err: unknown, sourceName: string): never {
  const mapped = toFetchError(err, sourceName);
  throw mapped instanceof SynclineError || mapped instanceof Error ? mapped : new Error(String(mapped));
}

/**
 * Like throwFetchError, for a network call to `remote`: a refused redirect becomes
 * `fetch_failed` naming the host it pointed to (found by one credential-less probe).
 */
export async function throwNetworkError(err: unknown, remote: { name: string; url: string; pin?: RemotePin | null }): Promise<never> {
  if (err instanceof GitError && err.reason === 'exit' && isRedirectFailure(err.stderr)) {
    const target = await redirectTarget(remote.url, remote.pin);
    throw new SynclineError(
      'fetch_failed',
      `Fetching source '${remote.name}' failed: the server redirected${target ? ` to ${target}` : ''}; redirects are not followed (point the source at the final URL)`,
      { source: remote.name, reason: 'redirect', ...(target ? { redirect_host: target } : {}) },
    );
  }
  throwFetchError(err, remote.name);
}
