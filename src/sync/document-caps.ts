/**
 * Caps on how many YAML documents one file and one namespace may hold, so repository content
 * cannot make a parse take seconds of event-loop time (`max_documents_per_file`,
 * `max_documents`). The per-file cap is checked on the raw text BEFORE parsing (a linear count of
 * `---` document markers), so an 18,000-document file is refused without being parsed.
 */
import { SynclineError } from '../errors.js';

/** Upper bound on the documents in a YAML text: its `---` markers (+1 for content before the first). */
export function countDocumentMarkers(text: string): number {
  let count = 0;
  let start = 0;
  let contentBeforeFirst = false;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (text.startsWith('---', start) && (end === start + 3 || /[\s]/.test(text[start + 3] ?? ''))) count++;
    else if (count === 0 && !contentBeforeFirst && /\S/.test(text.slice(start, end)) && !/^\s*#/.test(text.slice(start, end))) contentBeforeFirst = true;
    start = end + 1;
  }
  return count + (contentBeforeFirst ? 1 : 0);
}

export function assertFileDocumentCap(path: string, content: Uint8Array | string, max: number): void {
  const text = typeof content === 'string' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
  const n = countDocumentMarkers(text);
  if (n > max) {
    throw new SynclineError(
      'too_many_documents',
      `File '${path}' holds ${n} YAML documents; at most ${max} per file are allowed (SYNCLINE_MAX_DOCUMENTS_PER_FILE)`,
      { file: path, documents: n, limit: max },
    );
  }
}

export function assertNamespaceDocumentCap(namespace: string, count: number, max: number): void {
  if (count > max) {
    throw new SynclineError(
      'too_many_documents',
      `Namespace '${namespace}' holds ${count} documents; at most ${max} are allowed (SYNCLINE_MAX_DOCUMENTS)`,
      { namespace, documents: count, limit: max },
    );
  }
}
