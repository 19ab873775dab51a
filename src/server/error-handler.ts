import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import type { ErrorCode } from '../contracts/error-codes.js';
import { errorPayload, SynclineError } from '../errors.js';
import { isDatabaseConnectionError } from '../store/db.js';
import { redact } from '../security/redact.js';

/** The HTTP status of every error code: the only place that knows it. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_url: 400,
  host_not_allowed: 400,
  invalid_source_url: 400,
  invalid_source_name: 400,
  invalid_credentials: 400,
  invalid_path: 400,
  invalid_kind: 400,
  unsafe_pattern: 400,
  git_not_configured: 400,
  ref_not_found: 400,
  ref_not_on_branch: 400,
  path_not_found: 400,
  branch_not_found: 400,
  auth_failed: 400,
  repo_not_found: 400,
  repo_empty: 400,
  runtime_sync_disabled: 400,
  unauthorized: 401,
  forbidden: 403,
  csrf: 403,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  source_in_use: 409,
  builtin_kind: 409,
  sync_in_progress: 409,
  field_managed_by_git: 409,
  job_running: 409,
  payload_too_large: 413,
  specs_too_large: 413,
  too_many_documents: 413,
  unsupported_media_type: 415,
  invalid_specs: 422,
  invalid_spec: 422,
  git_failed: 500,
  internal: 500,
  job_kind_unknown: 500,
  fetch_failed: 502,
  report_failed: 502,
  busy: 503,
  database_unavailable: 503,
};

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Names the offending field the way a user wrote it: `auth.token`, `mirror.slug`. */
function describeValidation(context: string | undefined, issues: ValidationIssue[]) {
  const first = issues[0]!;
  const base = first.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
  if (first.keyword === 'unrecognized_keys') {
    const keys = (first.params?.keys as string[] | undefined) ?? [];
    const fields = keys.map((k) => (base ? `${base}.${k}` : k));
    return {
      message: `Unknown field${fields.length > 1 ? 's' : ''} ${fields.map((f) => `'${f}'`).join(', ')} in ${context ?? 'request'}`,
      details: { field: fields[0], fields, location: context ?? 'body' },
    };
  }
  const field = base || '(root)';
  return {
    message: `Invalid ${context ?? 'request'} field '${field}': ${first.message ?? first.keyword}`,
    details: {
      field,
      location: context ?? 'body',
      issues: issues.slice(0, 20).map((i) => ({
        field: i.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.') || '(root)',
        message: i.message ?? i.keyword,
      })),
    },
  };
}

function send(reply: FastifyReply, status: number, body: unknown) {
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

/**
 * One place turning every failure into `{"error":{code,message,details}}`. Known errors keep
 * their code and status; anything unexpected is logged and becomes a 500 without internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof SynclineError) {
      const status = HTTP_STATUS[err.code];
      if (status >= 500) req.log.error({ err: { code: err.code, message: redact(err.message) } }, 'request failed');
      return send(reply, status, errorPayload(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const { message, details } = describeValidation(err.validationContext, err.validation as ValidationIssue[]);
      return send(reply, 400, errorPayload('invalid_request', message, details));
    }
    if (isResponseSerializationError(err as never)) {
      req.log.error({ err: redact(String((err as Error).cause ?? err)) }, 'response did not match its schema');
      return send(reply, 500, errorPayload('internal', 'Internal server error'));
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(reply, 413, errorPayload('payload_too_large', 'Request body is larger than the limit', {}));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(reply, 400, errorPayload('invalid_request', `Malformed JSON body: ${err.message}`));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(reply, 415, errorPayload('unsupported_media_type', 'Send JSON with Content-Type: application/json'));
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return send(reply, 400, errorPayload('invalid_request', 'Content-Length does not match the body'));
    }
    if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
      return send(reply, 400, errorPayload('invalid_request', `Malformed JSON body: ${err.message}`));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return send(reply, err.statusCode, errorPayload('invalid_request', err.message));
    }
    if (isDatabaseConnectionError(err)) {
      // The database went away (restart, network, terminated backend): retry later; the pools reconnect.
      req.log.error({ err: { message: redact(err.message) } }, 'request failed: database unreachable');
      return send(reply, 503, errorPayload('database_unavailable', 'The database is unreachable; retry later'));
    }
    req.log.error({ err: { message: redact(err.message), stack: redact(err.stack ?? '') } }, 'unhandled error');
    return send(reply, 500, errorPayload('internal', 'Internal server error'));
  });

  app.setNotFoundHandler((req, reply) =>
    send(reply, 404, errorPayload('not_found', `No route for ${req.method} ${req.url.split('?')[0]}`)),
  );
}
