/**
 * Validate and normalise each document ONCE. Parsing validates a document's normalised content
 * against its kind and records the result here; planning a document with no live resource (a
 * create) reuses it instead of normalising and validating the same content again. Keyed by the
 * document object and the compiled kind, so a changed kind (a new registry) never reuses a stale
 * result. Results are shared: treat them as immutable.
 */
import type { CompiledKind } from './kinds.js';
import { normalizeContent } from './normalize.js';
import type { SpecContent, SpecDocument, SpecValidationError } from './types.js';

const validated = new WeakMap<SpecDocument, { kind: CompiledKind; content: SpecContent }>();

/** Normalises the document's content for `kind`, validates it, and remembers a valid result. */
export function validateOnce(kind: CompiledKind, doc: SpecDocument): SpecValidationError[] {
  const content = normalizeContent(kind, { spec: doc.spec, metadata: doc.metadata });
  const errors = kind.validate(content.spec);
  if (errors.length === 0) validated.set(doc, { kind, content });
  return errors;
}

/** The normalised, valid content recorded for `doc` with this very `kind`, if any. */
export function validatedContent(doc: SpecDocument, kind: CompiledKind): SpecContent | undefined {
  const hit = validated.get(doc);
  return hit && hit.kind === kind ? hit.content : undefined;
}

/**
 * Records content normalised and validated elsewhere (a parse worker did `validateOnce` on its
 * copy of the same kind definition): the same result `validateOnce` would have recorded here.
 */
export function recordValidated(doc: SpecDocument, kind: CompiledKind, content: SpecContent): void {
  validated.set(doc, { kind, content });
}
