/** Public surface of the spec layer (pure: no I/O). */
export type * from './types.js';
export { parseSpecFiles, isSpecFile, positionFor, NAME_PATTERN, LABEL_KEY_PATTERN, SPEC_FILE_EXTENSIONS, DEFAULT_PARSE_LIMITS } from './parse.js';
export type { ParseOptions } from './parse.js';
export {
  KindRegistry,
  compileKind,
  validateKindDefinition,
  validateSpec,
  closeObjectSchemas,
  isBuiltinKind,
  BUILTIN_KINDS,
  CONFIG_KIND,
  KIND_NAME_PATTERN,
} from './kinds.js';
export type { CompiledKind, EquivalenceRule } from './kinds.js';
export { normalizeContent, normalizeSpec, canonicalizeEquivalents } from './normalize.js';
export { jsonEqual, cloneJson, isJsonObject } from './json.js';
