/**
 * Every error code the product uses, once (no zod here: the CLI loads this without the schemas). The error body's schema (and so OpenAPI) lists these
 * codes; `SynclineError` only accepts them (a new code fails the typecheck until it is added
 * here); the HTTP status of each lives in one map in the server's error handler; every code is
 * documented in docs/api.md (a unit test checks all three stay complete).
 *
 * `retryable`: whether trying the same thing again later can help (a network failure may pass;
 * a bad ref, bad YAML or bad credentials will not until someone changes something).
 */
export const ERROR_CODES = {
  // Request shape and identity
  invalid_request: { retryable: false, description: 'unknown field, wrong type, malformed JSON (`details.field` names the field)' },
  unsupported_media_type: { retryable: false, description: 'the body is not in the expected content type or encoding' },
  payload_too_large: { retryable: false, description: 'the request body is over the limit' },
  unauthorized: { retryable: false, description: 'no or unknown token' },
  forbidden: { retryable: false, description: 'role too low or namespace outside the token’s scope' },
  csrf: { retryable: false, description: 'a cookie-authenticated write without `X-Syncline-Request: 1`' },
  not_found: { retryable: false, description: 'unknown object or route' },
  already_exists: { retryable: false, description: 'an object of that name already exists' },
  conflict: { retryable: false, description: 'a unique value (e.g. a mirror slug) is already taken' },
  // Sources and git
  invalid_url: { retryable: false, description: 'the source URL is malformed or uses a refused scheme' },
  host_not_allowed: { retryable: false, description: 'the URL’s host resolves to a refused address (loopback, private, …)' },
  invalid_source_url: { retryable: false, description: 'the stored source URL cannot be handed to git' },
  invalid_source_name: { retryable: false, description: 'a source name that cannot name a mirror directory' },
  invalid_credentials: { retryable: false, description: 'credentials contain characters that cannot be sent to git' },
  source_in_use: { retryable: false, description: 'the source is still bound to namespaces' },
  auth_failed: { retryable: false, description: 'the git server or forge refused the credentials' },
  repo_not_found: { retryable: false, description: 'the repository does not exist (or the credentials cannot see it)' },
  repo_empty: { retryable: false, description: 'the repository has no branches or tags' },
  fetch_failed: { retryable: true, description: 'the git server failed or timed out (retrying may help)' },
  git_failed: { retryable: false, description: 'a local git command failed' },
  runtime_sync_disabled: { retryable: false, description: 'upstream contact asked for in air-gap mode without `allow_runtime_sync`' },
  // Namespaces, kinds and sync
  invalid_path: { retryable: false, description: 'namespace path absolute, not normalised or with `..`' },
  invalid_kind: { retryable: false, description: 'a kind’s JSON Schema does not compile in strict mode' },
  unsafe_pattern: { retryable: false, description: 'a kind’s schema has a regular expression that could backtrack catastrophically' },
  builtin_kind: { retryable: false, description: 'a built-in kind cannot be replaced' },
  git_not_configured: { retryable: false, description: 'the namespace has no source' },
  branch_not_found: { retryable: false, description: 'the namespace’s branch does not exist in its (reachable) source' },
  ref_not_found: { retryable: false, description: 'the ref does not exist in the source' },
  ref_not_on_branch: { retryable: false, description: 'the commit is not reachable from the tracked branch' },
  path_not_found: { retryable: false, description: 'the namespace path does not exist at that commit' },
  specs_too_large: { retryable: false, description: 'spec files over the size or count limits' },
  too_many_documents: { retryable: false, description: 'a spec file or namespace holds more YAML documents than allowed' },
  invalid_specs: { retryable: false, description: 'invalid documents; `details.deployment` is the recorded failed deployment' },
  invalid_spec: { retryable: false, description: 'a PATCH would make the resource fail its kind’s schema' },
  field_managed_by_git: { retryable: false, description: 'a PATCH touches a field git manages' },
  sync_in_progress: { retryable: true, description: 'another sync of the namespace held the lock for the whole wait' },
  // Jobs, webhooks and forge reports
  job_running: { retryable: true, description: 'the job is running; retry it once it has finished' },
  job_kind_unknown: { retryable: false, description: 'no handler is registered for the job’s kind (a job listed as failed)' },
  report_failed: { retryable: false, description: 'the forge refused a check run / commit status (a job listed as failed)' },
  // Capacity and the unexpected
  database_unavailable: { retryable: true, description: 'PostgreSQL unreachable (refused or dropped connections, a terminated backend), or no pooled connection free within the acquire timeout' },
  busy: { retryable: true, description: 'over capacity or shutting down (`Retry-After`, `details.retry_after`)' },
  internal: { retryable: false, description: 'an unexpected failure (logged on the server, no internals in the message)' },
} as const satisfies Record<string, { retryable: boolean; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

