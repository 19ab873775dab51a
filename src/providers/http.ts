/**
 * Every forge API request goes through `forgeFetch`: the guarded HTTP agent (src/security/
 * outbound-http.ts: the URL guard checked and pinned at each connection, redirects not followed,
 * a deadline), and retries with back-off that honour `Retry-After` and GitHub's rate-limit headers.
 */
import { RetryLaterError } from '../jobs/queue.js';
import { guardedFetch } from '../security/outbound-http.js';
import type { GuardOptions } from '../security/url-guard.js';

export interface ForgeHttpOptions {
  /** The outbound URL guard: every connection is checked and pinned by the guarded agent. */
  guard: GuardOptions;
  /** Attempts per request (first + retries). */
  attempts?: number;
  /** Longest wait between attempts done in-process; longer waits become a job retry. */
  maxInlineWaitMs?: number;
  timeoutMs?: number;
  /** Air-gap mode: refuse every request. */
  offline?: boolean;
}

export type FetchLike = (url: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Air-gap mode refused a forge call. */
export class OfflineError extends Error {
  readonly code = 'runtime_sync_disabled';
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** How long the forge asks us to wait, or null when the response is not a "slow down". */
export function rateLimitDelayMs(res: Response, now = Date.now()): number | null {
  const retryAfter = res.headers.get('retry-after');
  if (retryAfter && (res.status === 429 || res.status === 403 || res.status >= 500)) {
    const secs = Number(retryAfter);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  if ((res.status === 403 || res.status === 429) && res.headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now) + 250;
    return 60_000;
  }
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function forgeFetch(opts: ForgeHttpOptions): FetchLike {
  const attempts = opts.attempts ?? 4;
  const maxInline = opts.maxInlineWaitMs ?? 30_000;
  const guarded = guardedFetch(opts.guard, { timeoutMs: opts.timeoutMs ?? 30_000 });
  return async (input, init = {}) => {
    if (opts.offline) throw new OfflineError('Forge API calls are disabled in air-gap mode (SYNCLINE_MIRROR_RUNTIME_SYNC=false)');
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    let lastErr: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let res: Response;
      try {
        res = await guarded(url, init);
      } catch (err) {
        // A refused address is final; a network failure may pass.
        if ((err as { code?: string }).code === 'host_not_allowed' || (err as { code?: string }).code === 'invalid_url') throw err;
        lastErr = err;
        if (attempt < attempts) await sleep(Math.min(maxInline, 250 * 2 ** attempt));
        continue;
      }
      const wait = rateLimitDelayMs(res);
      const retryable = wait !== null || RETRYABLE.has(res.status);
      if (!retryable || attempt === attempts) {
        if (retryable && wait !== null && wait > 0) {
          // Still limited after our attempts: let the job queue retry after the forge's reset.
          throw new RetryLaterError(`${res.status} from ${new URL(url).host}: rate limited, retry in ${Math.ceil(wait / 1000)} s`, wait);
        }
        return res;
      }
      const delay = wait ?? Math.min(maxInline, 500 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      if (delay > maxInline) {
        throw new RetryLaterError(`${res.status} from ${new URL(url).host}: rate limited, retry in ${Math.ceil(delay / 1000)} s`, delay);
      }
      await res.body?.cancel().catch(() => undefined);
      await sleep(delay);
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  };
}
