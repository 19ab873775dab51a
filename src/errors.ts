import type { ErrorBody, ErrorCode } from './contracts/errors.js';
import { redact, redactDeep } from './security/redact.js';

/** The wire body of an error, with the message and details redacted. */
export function errorPayload(code: ErrorCode, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message: redact(message), details: redactDeep(details) } };
}

/**
 * One base error with a stable machine `code`; each subclass fixes the HTTP status.
 * The server's error handler turns these into `{"error":{"code","message","details"}}`;
 * anything else becomes a logged 500 `internal`.
 *
 * `retryable` tells callers (sync, mirror scheduler, CLI) whether trying again can help:
 * a network failure may pass, a bad ref or bad YAML will not.
 */
export class SynclineError extends Error {
  readonly statusCode: number = 500;
  readonly retryable: boolean = false;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends SynclineError {
  override readonly statusCode = 400;
}
export class UnauthorizedError extends SynclineError {
  override readonly statusCode = 401;
  constructor(message = 'Missing or unknown bearer token', details: Record<string, unknown> = {}) {
    super('unauthorized', message, details);
  }
}
export class ForbiddenError extends SynclineError {
  override readonly statusCode = 403;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('forbidden', message, details);
  }
}
export class NotFoundError extends SynclineError {
  override readonly statusCode = 404;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('not_found', message, details);
  }
}
export class ConflictError extends SynclineError {
  override readonly statusCode = 409;
}
export class PayloadTooLargeError extends SynclineError {
  override readonly statusCode = 413;
}
export class UnprocessableError extends SynclineError {
  override readonly statusCode = 422;
}
/** Upstream (git server, forge API) failed; trying again later may help. */
export class UpstreamError extends SynclineError {
  override readonly statusCode = 502;
  override readonly retryable = true;
}
export class UnavailableError extends SynclineError {
  override readonly statusCode = 503;
  override readonly retryable = true;
}
