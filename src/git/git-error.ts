/**
 * The error every failed git invocation turns into. Its text is already redacted and bounded,
 * so it can be logged or wrapped without re-checking; callers that know what the command meant
 * (a fetch, a ref lookup) map it to an API code (see classify.ts).
 */
import { SynclineError } from '../errors.js';
import { redact } from '../security/redact.js';

export type GitFailureReason = 'exit' | 'idle_timeout' | 'timeout' | 'aborted' | 'spawn' | 'output_too_large';

/** Longest stderr excerpt kept on an error (the useful `fatal:` line is short). */
const MAX_STDERR_CHARS = 4000;
const MAX_SUMMARY_CHARS = 1000;

/** Progress chatter that says nothing about why git failed. */
const PROGRESS_LINE =
  /^(remote: )?(Enumerating|Counting|Compressing|Receiving|Resolving|Total|Unpacking|Writing|Delta|Finding|Checking|Updating|From |Cloning|Expanding|Indexing)/;

export class GitError extends SynclineError {
  constructor(
    readonly reason: GitFailureReason,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    /** Redacted, truncated stderr. */
    readonly stderr: string,
    detail?: string,
  ) {
    const summary = detail ?? summarizeStderr(stderr);
    super(
      'git_failed',
      redact(`git ${args[0] ?? ''} failed${exitCode !== null && reason === 'exit' ? ` (exit ${exitCode})` : ''}${summary ? `: ${summary}` : ''}`),
      { reason, exit_code: exitCode },
    );
  }
}

/** Redacts and bounds raw stderr; keeps the tail, where git prints the reason it gave up. */
export function cleanStderr(raw: string): string {
  const redacted = redact(raw);
  return redacted.length > MAX_STDERR_CHARS ? `…${redacted.slice(-MAX_STDERR_CHARS)}` : redacted;
}

/** The lines of stderr worth showing: `fatal:`/`error:` ones if any, else the last few. */
export function summarizeStderr(stderr: string): string {
  const lines = stderr
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l && !PROGRESS_LINE.test(l));
  const important = lines.filter((l) => /^(fatal|error|remote: (fatal|error))\b/i.test(l));
  const chosen = (important.length ? important : lines).slice(-5).join(' ');
  return chosen.length > MAX_SUMMARY_CHARS ? `${chosen.slice(0, MAX_SUMMARY_CHARS)}…` : chosen;
}
