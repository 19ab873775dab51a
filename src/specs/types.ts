/**
 * Plain data types of the spec layer (parsing, kinds, validation, normalisation).
 *
 * Everything here is JSON-shaped on purpose: these types are mirrored as zod schemas at the
 * HTTP boundary, stored in the database and sent to the UI. No classes, no Maps, no functions.
 */

import type { InvalidCode } from '../contracts/deployments.js';
import type { JsonObject, JsonPrimitive, JsonValue } from '../contracts/json.js';

/** 1-based line and column in a spec file. */
export interface Position {
  line: number;
  column: number;
}

/** The only metadata a spec document may carry. */
export interface SpecMetadata {
  labels?: Record<string, string>;
  description?: string;
  /** Kubernetes form: kept as declared. */
  annotations?: Record<string, string>;
  apiVersion?: string;
  namespace?: string;
}

/** One file handed to the parser (read from git by the caller). */
export interface SpecFile {
  /** Path relative to the repository root; used verbatim in messages. */
  path: string;
  /** May be omitted only when `id` is given and the ParseCache already holds this file. */
  content?: string | Uint8Array;
  /** Identity of the content (a git blob id); lets a ParseCache reuse an earlier parse. */
  id?: string;
}

/**
 * One valid spec document.
 *
 * `spec` and `metadata` are exactly as declared in git (converted to plain JSON), NOT normalised:
 * the declared leaves are what git manages (see plan/diff.ts `declaredLeafPaths`). Normalisation
 * (defaults, equivalents) happens when planning.
 */
export interface SpecDocument {
  kind: string;
  name: string;
  spec: JsonObject;
  metadata: SpecMetadata;
  /** File path as given to the parser. */
  file: string;
  /** Where the document's mapping starts. */
  line: number;
  column: number;
  /**
   * Source position of every node in the document, keyed by JSON pointer relative to the
   * document (`""` is the document, `/spec/port` the `port` key, `/spec/tags/0` a list item).
   * For mapping entries the position is the KEY's. Used to point errors found later (e.g. when
   * the merged result fails validation) at the right line.
   */
  positions: Record<string, Position>;
}

// InvalidCode (the stable machine codes of invalid results) is defined in contracts/deployments.ts.

/**
 * A document (or a whole file) that cannot be used. Never silently skipped.
 * `message` starts with `file:line:column:`; when several problems are found in one document
 * they are all listed, separated by `; `, each with its own `file:line:column:`.
 */
export interface InvalidResult {
  /** Known when the document got far enough to have a string kind / name. */
  kind: string | null;
  name: string | null;
  file: string;
  /** Position of the first (top-most) problem. */
  line: number;
  column: number;
  code: InvalidCode;
  message: string;
  /** JSON pointer (document-relative, e.g. `/spec/port`) of the first problem, when there is one. */
  path: string | null;
}

export interface ParseResult {
  documents: SpecDocument[];
  invalid: InvalidResult[];
}

/**
 * Equivalent values per JSON pointer: `{"/spec/deploy_strategy": [["recreate", ""]]}`.
 * Each inner array is a group of values that mean the same thing; the FIRST value of a group is
 * canonical. Pointers starting with `/spec` or `/metadata` address the document; any other
 * pointer is relative to `spec` (so `/deploy_strategy` ≡ `/spec/deploy_strategy`). A segment
 * `*` matches every key of an object / every item of an array.
 */
export type Equivalents = Record<string, JsonValue[][]>;

/** A kind as defined by an admin (`PUT /api/v1/kinds/{kind}` body plus the name). */
export interface KindDefinition {
  name: string;
  /** JSON Schema (2020-12) of `spec`. */
  schema: JsonObject;
  equivalents?: Equivalents;
  /** apiVersions a Kubernetes-form document of this kind may declare (`["apps/v1"]`); absent = any. */
  api_versions?: string[] | null;
}

/** One schema violation. */
export interface SpecValidationError {
  /** Document-relative JSON pointer: `/spec/port`; for unknown fields, the unknown key itself. */
  path: string;
  /** The JSON Schema keyword that failed (`type`, `required`, `additionalProperties`, …). */
  keyword: string;
  message: string;
}

/** The content of a resource that normalisation, merge and diff work on. */
export interface SpecContent {
  spec: JsonObject;
  metadata: SpecMetadata;
}
