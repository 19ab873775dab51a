import { ERROR_CODES, type ErrorCode } from './contracts/error-codes.js';
import type { ErrorBody } from './contracts/errors.js';
import { redact, redactDeep } from './security/redact.js';

/** The wire body of an error, with the message and details redacted. */
export function errorPayload(code: ErrorCode, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message: redact(message), details: redactDeep(details) } };
}

/**
 * The one domain error: a stable machine `code` from the contracts' list, a message, details.
 * Layers below the server know nothing of HTTP; the server's error handler maps each code to a
 * status (one table) and turns the error into `{"error":{"code","message","details"}}`;
 * anything else becomes a logged 500 `internal`.
 *
 * `retryable` tells callers (sync, mirror scheduler, CLI) whether trying again can help: a
 * network failure may pass, a bad ref, bad YAML or bad credentials will not. It defaults to the
 * code's (see ERROR_CODES).
 */
export class SynclineError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    opts: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.retryable = opts.retryable ?? ERROR_CODES[code].retryable;
  }
}

export class UnauthorizedError extends SynclineError {
  constructor(message = 'Missing or unknown bearer token', details: Record<string, unknown> = {}) {
    super('unauthorized', message, details);
  }
}
export class ForbiddenError extends SynclineError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('forbidden', message, details);
  }
}
export class NotFoundError extends SynclineError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('not_found', message, details);
  }
}
