/**
 * The one JSON body parser (application/json and application/merge-patch+json). Before anything
 * else sees a body it enforces, with stable 400 `invalid_request` errors:
 *  - a nesting depth limit (checked by a linear scan BEFORE JSON.parse, so no recursive code
 *    downstream — canonical hashing, merge, leaf collection — can overflow the stack);
 *  - no NUL characters in any string or key (PostgreSQL text cannot hold them; one rule for both
 *    databases);
 *  - no `__proto__` keys and no `constructor.prototype` (prototype poisoning), like Fastify's own
 *    parser.
 * Bodies over `bodyLimit` are still 413 (Fastify counts the bytes before this parser runs).
 */
import type { FastifyInstance } from 'fastify';
import { SynclineError } from '../errors.js';

/** Deepest nesting of arrays/objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of JSON text, stopping early once it passes `limit`. Strings are skipped. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Walks parsed JSON without recursion; throws on NUL characters and prototype keys. */
export function assertCleanJson(value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) throw nulError();
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        if (key.includes('\0')) throw nulError();
        if (key === '__proto__') throw new SynclineError('invalid_request', "Key '__proto__' is not allowed in a request body");
        const child = (v as Record<string, unknown>)[key];
        if (key === 'constructor' && child && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
          throw new SynclineError('invalid_request', "Key 'constructor.prototype' is not allowed in a request body");
        }
        stack.push(child);
      }
    }
  }
}

function nulError(): SynclineError {
  return new SynclineError('invalid_request', 'NUL characters (\\u0000) are not allowed in request bodies');
}

export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new SynclineError('invalid_request', 'Malformed JSON body: empty body');
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new SynclineError('invalid_request', `JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`, { max_depth: MAX_JSON_DEPTH });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SynclineError('invalid_request', `Malformed JSON body: ${(err as Error).message}`);
  }
  assertCleanJson(parsed);
  return parsed;
}

/** A NUL byte in the path or query (`%00`) would reach the database too: the error for such a URL, or undefined. */
export function urlNulError(url: string): SynclineError | undefined {
  // The mirror endpoint refuses any '%' itself (404).
  if (!url.startsWith('/git/') && (url.includes('%00') || url.includes('\0'))) {
    return new SynclineError('invalid_request', 'NUL characters are not allowed in the URL');
  }
  return undefined;
}

/**
 * Replaces the JSON parsers of `app` (call before routes are registered). URLs with a NUL are
 * refused by the server's one global onRequest hook (`urlNulError`, server/app.ts).
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

