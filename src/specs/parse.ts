/**
 * Strict YAML parsing of spec files, with positions.
 *
 * Every document is a mapping with `kind`, `name`, `spec` and optional `metadata`
 * (`labels`, `description`). Anything else — a syntax error, a tab used as indentation, a
 * duplicate key, an alias bomb, a list or scalar document, a missing or mistyped field, an unknown
 * kind, a schema failure — becomes an InvalidResult whose message names `file:line:column` of the
 * offending KEY. Nothing is silently skipped except empty documents (only comments, or a trailing
 * `---`).
 *
 * Values are read with the YAML 1.2 core schema and converted to plain JSON by our own walker
 * (not `toJS`) so that we can:
 * - record the position of every key (for messages and for errors found later);
 * - refuse what JSON cannot hold: `.inf` / `.nan`, integers beyond ±(2^53-1) (they would silently
 *   lose precision), explicit tags such as `!!binary`, `!!timestamp`, `!!set` or custom `!tags`;
 * - refuse merge keys (`<<`): YAML 1.2 has none, and reading `<<` as an ordinary key would only
 *   produce a confusing "unknown field" later;
 * - cap alias expansions (`maxAliasCount`, default 100 — the billion-laughs defence), refuse
 *   recursive aliases, and cap nesting depth (`maxDepth`, default 64).
 * Date-looking values (`2024-01-01`) and YAML 1.1 booleans (`yes`, `on`) are plain strings in the
 * core schema — even under a `%YAML 1.1` directive — and are kept as strings.
 * Mapping keys must be strings; a plain number or boolean key (`404: page`) is kept as written
 * (`"404"`), a null, alias or collection key is refused.
 *
 * The returned `spec` / `metadata` are as declared (not normalised). When a KindRegistry is given
 * the kind must exist and the NORMALISED spec (defaults, equivalents) must pass its schema.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, visit } from 'yaml';
import type { Document, Node, YAMLError } from 'yaml';
import { RESOURCE_NAME_RE } from '../contracts/common.js';
import { describeJson, hasOwn, isJsonObject, setOwn } from './json.js';
import { KIND_NAME_PATTERN, compareStrings } from './kinds.js';
import type { KindRegistry } from './kinds.js';
import { escapeSegment, formatPointer, parsePointer } from './pointer.js';
import { fastParseDocument } from './fast-yaml.js';
import { recordValidated, validateOnce, validatedContent } from './validated.js';
import type { InvalidResult, ParseResult, Position, SpecContent, SpecDocument, SpecFile, SpecMetadata } from './types.js';
import type { InvalidCode } from '../contracts/deployments.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';

export const SPEC_FILE_EXTENSIONS: readonly string[] = Object.freeze(['.yaml', '.yml']);

/** Resource names: 1-253 characters, letters, digits, `.`, `_`, `-`, starting and ending with a letter or digit. */
export const NAME_PATTERN = RESOURCE_NAME_RE;

/** Label keys: like names, but `/` is also allowed (`app.example.com/team`). */
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;

export const DEFAULT_PARSE_LIMITS = Object.freeze({
  /** Alias expansions per document (billion-laughs defence). */
  maxAliasCount: 100,
  /** Nesting depth of mappings / lists, the document itself being depth 0. */
  maxDepth: 64,
  /** Problems listed in one invalid result's message. */
  maxIssuesPerDocument: 20,
});

export interface ParseOptions {
  /**
   * The namespace path is a single file (e.g. `.syncline.yml`): parse every file given, whatever
   * its extension. Otherwise only `.yaml` / `.yml` files are read and others are ignored.
   */
  singleFile?: boolean;
  /** When given, each document's kind must exist and its normalised spec must pass the schema. */
  registry?: KindRegistry;
  /** Reuse per-file results for files with an `id` (see ParseCache). */
  cache?: ParseCache;
  maxAliasCount?: number;
  maxDepth?: number;
}

/** `.yaml` and `.yml` (any case) count as spec files. */
export function isSpecFile(path: string): boolean {
  const lower = path.toLowerCase();
  return SPEC_FILE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

const TOP_LEVEL_KEYS = ['kind', 'name', 'spec', 'metadata'] as const;
const METADATA_KEYS = ['labels', 'description'] as const;
const CORE_TAGS = new Set([
  'tag:yaml.org,2002:str',
  'tag:yaml.org,2002:int',
  'tag:yaml.org,2002:float',
  'tag:yaml.org,2002:bool',
  'tag:yaml.org,2002:null',
  'tag:yaml.org,2002:map',
  'tag:yaml.org,2002:seq',
]);

interface Issue {
  code: InvalidCode;
  line: number;
  column: number;
  path: string | null;
  text: string;
}

/** Internal: an invalid result plus where its `name` key is, for duplicate reporting. */
interface InvalidEntry {
  result: InvalidResult;
  namePos: Position | null;
}

interface Limits {
  maxAliasCount: number;
  maxDepth: number;
}

class IssueError extends Error {
  constructor(readonly issue: Issue) {
    super(issue.text);
  }
}

/**
 * Parse spec files into valid documents and invalid results. Files are processed in path order;
 * documents keep file order. Two documents with the same kind and name (in one file or across
 * files) are all reported invalid, each naming the other locations.
 */
export function parseSpecFiles(files: readonly SpecFile[], options: ParseOptions = {}): ParseResult {
  const limits = limitsOf(options);
  const selected = files
    .filter((f) => options.singleFile === true || isSpecFile(f.path))
    .sort((a, b) => compareStrings(a.path, b.path));

  let documents: SpecDocument[] = [];
  const invalid: InvalidEntry[] = [];
  for (const file of selected) {
    const out = parseCached(file, options, limits);
    documents.push(...out.documents);
    invalid.push(...out.invalid);
  }

  // Duplicate kind+name: every valid occurrence becomes invalid, naming the other places.
  interface Site {
    file: string;
    pos: Position;
    doc?: SpecDocument;
  }
  const sites = new Map<string, Site[]>();
  const add = (kind: string, name: string, site: Site): void => {
    const key = `${kind}\u0000${name}`;
    const list = sites.get(key);
    if (list) list.push(site);
    else sites.set(key, [site]);
  };
  for (const doc of documents) add(doc.kind, doc.name, { file: doc.file, pos: namePosition(doc), doc });
  for (const entry of invalid) {
    const { kind, name } = entry.result;
    if (kind !== null && name !== null) {
      add(kind, name, { file: entry.result.file, pos: entry.namePos ?? entry.result });
    }
  }
  const duplicated = new Set<SpecDocument>();
  for (const list of sites.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => compareStrings(a.file, b.file) || a.pos.line - b.pos.line || a.pos.column - b.pos.column);
    for (const site of list) {
      if (!site.doc) continue;
      const doc = site.doc;
      duplicated.add(doc);
      const others = list.filter((o) => o !== site).map((o) => `${o.file}:${o.pos.line}:${o.pos.column}`);
      const issue: Issue = {
        code: 'duplicate_resource',
        line: site.pos.line,
        column: site.pos.column,
        path: '/name',
        text: `duplicate ${doc.kind} '${doc.name}': also defined at ${others.join(', ')}`,
      };
      invalid.push({ result: toInvalid(doc.file, doc.kind, doc.name, [issue]), namePos: site.pos });
    }
  }
  if (duplicated.size > 0) documents = documents.filter((d) => !duplicated.has(d));

  const results = invalid.map((e) => e.result);
  results.sort(
    (a, b) => compareStrings(a.file, b.file) || a.line - b.line || a.column - b.column || compareStrings(a.message, b.message),
  );
  return { documents, invalid: results };
}

/**
 * What `parseSpecFiles(files, options)` leaves in `options.cache`, without its answer: each file
 * it would parse is parsed into the cache (or found there). For callers that parse a few files at
 * a time to fill the cache and then make one call for the answer (the sync's parseSpecs step):
 * the cross-file checks and sorting of a call per file are not done only to be dropped.
 */
export function warmParseCache(files: readonly SpecFile[], options: ParseOptions): void {
  const limits = limitsOf(options);
  for (const file of files) if (options.singleFile === true || isSpecFile(file.path)) parseCached(file, options, limits);
}

type FileParse = { documents: SpecDocument[]; invalid: InvalidEntry[] };

/**
 * Per-file parse results keyed by path, content id (git blob id), registry and limits. A file's
 * result depends on nothing else, so a re-sync parses only the files whose blobs changed.
 * Results are shared between calls: callers must treat documents as immutable (they do — plan
 * and normalisation work on copies). Bounded: the oldest entries go first.
 */
/** One cached result and where it is filed. */
interface CacheEntry {
  value: FileParse;
  readonly path: string;
  readonly id: string;
  readonly limits: string;
}

export class ParseCache {
  private registry: KindRegistry | undefined;
  /**
   * path → content id → limits → entry. Nested maps on the path and id strings the caller
   * already holds (a string keeps its hash once computed), instead of a key built by
   * concatenation for every lookup: a 10,000-file sync looks each file up three times.
   */
  private readonly entries = new Map<string, Map<string, Map<string, CacheEntry>>>();
  /** Every entry, oldest first: the eviction order (a replaced result keeps its entry's place). */
  private readonly order = new Set<CacheEntry>();

  constructor(private readonly maxEntries = 100_000) {}

  private static limitsKey(limits: Limits): string {
    return `${limits.maxAliasCount}:${limits.maxDepth}`;
  }

  /** Switches to `registry`, dropping every entry made with another one. */
  private use(registry: KindRegistry | undefined): void {
    if (registry !== this.registry) {
      this.entries.clear();
      this.order.clear();
      this.registry = registry;
    }
  }

  private find(path: string, id: string, limits: string): CacheEntry | undefined {
    return this.entries.get(path)?.get(id)?.get(limits);
  }

  /** Whether `path` with content `id` is cached for this registry (so its content need not be read). */
  has(path: string, id: string, options: Pick<ParseOptions, 'registry' | 'maxAliasCount' | 'maxDepth'> = {}): boolean {
    this.use(options.registry);
    return this.find(path, id, ParseCache.limitsKey(limitsOf(options))) !== undefined;
  }

  /** @internal */
  get(path: string, id: string, registry: KindRegistry | undefined, limits: Limits): FileParse | undefined {
    this.use(registry);
    return this.find(path, id, ParseCache.limitsKey(limits))?.value;
  }

  /** @internal */
  set(path: string, id: string, limits: Limits, value: FileParse): void {
    const lk = ParseCache.limitsKey(limits);
    const found = this.find(path, id, lk);
    if (found) {
      found.value = value; // replaced: keeps its place, as a Map keeps a replaced key's
      return;
    }
    if (this.order.size >= this.maxEntries) {
      const oldest = this.order.values().next().value;
      if (oldest !== undefined) this.remove(oldest);
    }
    let byId = this.entries.get(path);
    if (!byId) this.entries.set(path, (byId = new Map()));
    let byLimits = byId.get(id);
    if (!byLimits) byId.set(id, (byLimits = new Map()));
    const entry: CacheEntry = { value, path, id, limits: lk };
    byLimits.set(lk, entry);
    this.order.add(entry);
  }

  private remove(entry: CacheEntry): void {
    this.order.delete(entry);
    const byId = this.entries.get(entry.path);
    const byLimits = byId?.get(entry.id);
    if (!byId || !byLimits) return;
    byLimits.delete(entry.limits);
    if (byLimits.size === 0) byId.delete(entry.id);
    if (byId.size === 0) this.entries.delete(entry.path);
  }

  get size(): number {
    return this.order.size;
  }
}

/**
 * One file parsed and validated on its own, detached from any cache (what a parse worker
 * computes): the documents, the invalid results, and each document's normalised valid content.
 * Plain data: it crosses a worker boundary by structured clone.
 */
export interface DetachedParse {
  documents: SpecDocument[];
  invalid: Array<{ result: InvalidResult; namePos: Position | null }>;
  validated: Array<SpecContent | null>;
}

export function parseFileDetached(file: SpecFile, options: Pick<ParseOptions, 'registry' | 'maxAliasCount' | 'maxDepth'>): DetachedParse {
  const out = parseOne(file, options.registry, limitsOf(options));
  const validated = out.documents.map((d) => {
    const kind = options.registry?.get(d.kind);
    return (kind && validatedContent(d, kind)) ?? null;
  });
  return { documents: out.documents, invalid: out.invalid, validated };
}

/**
 * Takes a detached parse of `file` (made with a registry built from the same definitions as
 * `options.registry`) into `options.cache`, recording each valid document's normalised content
 * against this registry's kinds, as parsing here would have. Afterwards `parseSpecFiles` finds
 * the file in the cache.
 */
export function adoptDetachedParse(file: SpecFile, out: DetachedParse, options: ParseOptions): void {
  if (!options.cache || file.id === undefined) throw new Error('adoptDetachedParse needs a cache and a file id');
  out.documents.forEach((d, i) => {
    const content = out.validated[i];
    const kind = options.registry?.get(d.kind);
    if (content && kind) recordValidated(d, kind, content);
  });
  options.cache.set(file.path, file.id, limitsOf(options), { documents: out.documents, invalid: out.invalid });
}

function limitsOf(options: Pick<ParseOptions, 'maxAliasCount' | 'maxDepth'>): Limits {
  return {
    maxAliasCount: options.maxAliasCount ?? DEFAULT_PARSE_LIMITS.maxAliasCount,
    maxDepth: options.maxDepth ?? DEFAULT_PARSE_LIMITS.maxDepth,
  };
}

function parseCached(file: SpecFile, options: ParseOptions, limits: Limits): FileParse {
  const cache = options.cache;
  if (!cache || file.id === undefined) return parseOne(file, options.registry, limits);
  const hit = cache.get(file.path, file.id, options.registry, limits);
  if (hit) return hit;
  const out = parseOne(file, options.registry, limits);
  cache.set(file.path, file.id, limits, out);
  return out;
}

function namePosition(doc: SpecDocument): Position {
  return doc.positions['/name'] ?? { line: doc.line, column: doc.column };
}

/** One decoder for every file: a fatal decoder's decode() (not streaming) keeps no state between calls. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decode(content: string | Uint8Array): string | null {
  if (typeof content === 'string') return content;
  try {
    return UTF8.decode(content);
  } catch {
    return null;
  }
}

/** @internal Tests switch the fast path off to compare it with the library's reading. */
export const fastYaml = { enabled: true };

function parseOne(
  file: SpecFile,
  registry: KindRegistry | undefined,
  limits: Limits,
): { documents: SpecDocument[]; invalid: InvalidEntry[] } {
  const documents: SpecDocument[] = [];
  const invalid: InvalidEntry[] = [];
  if (file.content === undefined) throw new Error(`No content given for '${file.path}' and it is not in the parse cache`);
  const text = decode(file.content);
  if (text === null) {
    const issue: Issue = {
      code: 'invalid_encoding',
      line: 1,
      column: 1,
      path: null,
      text: 'file is not valid UTF-8',
    };
    invalid.push({ result: toInvalid(file.path, null, null, [issue]), namePos: null });
    return { documents, invalid };
  }

  // Most spec files are plain block mappings: read those without building the library's trees.
  const fast = fastYaml.enabled ? fastParseDocument(text, limits.maxDepth) : null;
  if (fast) {
    const out = checkConverted(fast.json, fast.positions, { line: fast.line, column: fast.column }, file.path, registry);
    if ('result' in out) invalid.push(out);
    else documents.push(out);
    return { documents, invalid };
  }

  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, {
      schema: 'core',
      customTags: [],
      uniqueKeys: true,
      strict: true,
      prettyErrors: true,
      merge: false,
      intAsBigInt: false,
      lineCounter,
    });
    docs = Array.isArray(parsed) ? parsed : [];
  } catch (err) {
    const issue: Issue = {
      code: 'yaml_syntax',
      line: 1,
      column: 1,
      path: null,
      text: `could not parse YAML: ${(err as Error).message}`,
    };
    invalid.push({ result: toInvalid(file.path, null, null, [issue]), namePos: null });
    return { documents, invalid };
  }

  const posOf = (offset: number): Position => {
    const lp = lineCounter.linePos(offset);
    return { line: Math.max(1, lp.line), column: Math.max(1, lp.col) };
  };

  for (const doc of docs) {
    const out = checkDocument(doc, file.path, posOf, registry, limits);
    if (out === null) continue;
    if ('result' in out) invalid.push(out);
    else documents.push(out);
  }
  return { documents, invalid };
}

const YAML_CODES: Partial<Record<string, InvalidCode>> = {
  TAB_AS_INDENT: 'tab_indentation',
  DUPLICATE_KEY: 'duplicate_key',
  RESOURCE_EXHAUSTION: 'resource_limit',
  TAG_RESOLVE_FAILED: 'unsupported_yaml',
};

function yamlIssue(e: YAMLError, contents: unknown, posOf: (o: number) => Position): Issue {
  const pos = e.linePos?.[0] ? { line: e.linePos[0].line, column: e.linePos[0].col } : posOf(e.pos[0]);
  let message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?\s*$/, '');
  const code = YAML_CODES[e.code] ?? 'yaml_syntax';
  if (e.code === 'MISSING_CHAR' || e.code === 'BAD_INDENT') {
    // The parser notices an unclosed quote / bracket where the file ends or the block resumes;
    // point at where it was opened instead.
    const opened = unclosedAt(contents, e.pos[0]);
    if (opened) {
      const at = posOf(opened.start);
      return { code, ...at, path: null, text: `unclosed ${opened.what}: opened here and never closed (${message})` };
    }
  }
  if (e.code === 'DUPLICATE_KEY') {
    const key = keyAt(contents, e.pos[0]);
    message =
      key !== null && key.length <= 80
        ? `duplicate key '${key}' (keys in a mapping must be unique)`
        : 'duplicate key (keys in a mapping must be unique)';
  }
  return { code, line: pos.line, column: pos.column, path: null, text: message };
}

/**
 * One YAML document → a valid SpecDocument, an invalid result, or null (empty document). The
 * named steps, in order: YAML problems, empty and non-mapping documents, conversion to JSON
 * (positions, limits), the envelope (which form, kind, name, metadata, spec), the kind (known,
 * apiVersion accepted) and its schema (validated once, on the normalised content).
 */
function checkDocument(
  doc: Document.Parsed,
  file: string,
  posOf: (o: number) => Position,
  registry: KindRegistry | undefined,
  limits: Limits,
): SpecDocument | InvalidEntry | null {
  const contents = doc.contents;
  const early = yamlProblems(doc, file, posOf) ?? notAMapping(contents, file, posOf);
  if (early !== undefined) return early;

  const docPos = posOf((contents as { range: [number, number, number] }).range[0]);
  const converted = convertDocument(doc, contents, file, posOf, limits);
  if ('result' in converted) return converted;
  return checkConverted(converted.json, converted.positions, docPos, file, registry);
}

/**
 * A document converted to JSON (by Converter or by the fast path, fast-yaml.ts), with the
 * position of every key: the envelope (which form, kind, name, metadata, spec), the kind (known,
 * apiVersion accepted) and its schema (validated once, on the normalised content).
 */
function checkConverted(
  json: JsonObject,
  converted: Record<string, Position>,
  docPos: Position,
  file: string,
  registry: KindRegistry | undefined,
): SpecDocument | InvalidEntry {
  let positions = converted;
  const issues = new IssueList(positions, docPos);

  const envelope = readEnvelope(json, issues);
  const kind = resolveKind(envelope, registry, issues);
  const namePointer = envelope.form === 'kubernetes' ? '/metadata/name' : '/name';
  const namePos = positions[namePointer] ?? null;
  if (issues.length > 0 || envelope.name === null || envelope.spec === null) {
    return { result: toInvalid(file, envelope.kindName, envelope.name, issues.list), namePos };
  }
  if (envelope.form === 'kubernetes') positions = kubernetesPositions(positions, envelope.specFromBody);

  const document: SpecDocument = {
    kind: kind ?? (envelope.kindName as string),
    name: envelope.name,
    spec: envelope.spec,
    metadata: envelope.metadata,
    file,
    line: docPos.line,
    column: docPos.column,
    positions,
  };
  const compiled = registry && kind !== null ? registry.get(kind) : undefined;
  if (compiled) {
    const errors = validateOnce(compiled, document);
    if (errors.length > 0) {
      const schemaIssues = errors.map((e) => ({ code: 'schema_violation' as const, ...positionFor(positions, e.path, docPos), path: e.path, text: `${e.path}: ${e.message}` }));
      return { result: toInvalid(file, document.kind, document.name, schemaIssues), namePos };
    }
  }
  return document;
}

/** Collects issues with the position of their JSON pointer (or the document's). */
class IssueList {
  readonly list: Issue[] = [];
  constructor(
    private readonly positions: Record<string, Position>,
    private readonly docPos: Position,
  ) {}
  add(code: InvalidCode, pointer: string, text: string): void {
    this.list.push({ code, ...(this.positions[pointer] ?? this.docPos), path: pointer, text });
  }
  get length(): number {
    return this.list.length;
  }
}

/** The parser's own errors and warnings (syntax, tabs, duplicate keys, …), or undefined. */
function yamlProblems(doc: Document.Parsed, file: string, posOf: (o: number) => Position): InvalidEntry | undefined {
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length === 0) return undefined;
  const issues = problems.map((e) => yamlIssue(e, doc.contents, posOf));
  const identity = guessIdentity(doc.contents);
  return { result: toInvalid(file, identity.kind, identity.name, issues), namePos: null };
}

/** Null for an empty document (only comments, a trailing `---`); an invalid entry for a list or scalar. */
function notAMapping(contents: unknown, file: string, posOf: (o: number) => Position): InvalidEntry | null | undefined {
  // An explicit `~` is not empty.
  if (contents === null) return null;
  if (isScalar(contents) && contents.value === null && contents.range?.[0] === contents.range?.[1] && !contents.tag && !contents.anchor) {
    return null;
  }
  if (isMap(contents)) return undefined;
  const range = (contents as { range?: [number, number, number] }).range;
  const what = isSeq(contents) ? 'a list' : isAlias(contents) ? 'an alias' : `a scalar (${describeScalar(contents)})`;
  const issue: Issue = {
    code: 'not_a_mapping',
    ...posOf(range?.[0] ?? 0),
    path: '',
    text: `a spec document must be a mapping (kind, name, spec — or apiVersion, kind, metadata, spec), got ${what}`,
  };
  return { result: toInvalid(file, null, null, [issue]), namePos: null };
}

function convertDocument(
  doc: Document.Parsed,
  contents: unknown,
  file: string,
  posOf: (o: number) => Position,
  limits: Limits,
): { json: JsonObject; positions: Record<string, Position> } | InvalidEntry {
  const converter = new Converter(doc, posOf, limits);
  try {
    const json = converter.convert(contents, [], 0, null) as JsonObject;
    return { json, positions: converter.positions };
  } catch (err) {
    if (!(err instanceof IssueError)) throw err;
    const identity = guessIdentity(contents);
    return { result: toInvalid(file, identity.kind, identity.name, [err.issue]), namePos: null };
  }
}

/** What a document says about itself, in either form; null fields are missing or invalid (with an issue). */
interface Envelope {
  form: 'syncline' | 'kubernetes';
  kindName: string | null;
  apiVersion: string | null;
  name: string | null;
  spec: JsonObject | null;
  /** Kubernetes form without `spec`: the spec is the body (every other top-level key). */
  specFromBody: boolean;
  metadata: SpecMetadata;
}

/** `group/version` or a core `version` (`v1`, `v1beta1`). */
const API_VERSION_PATTERN = /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;
const KUBERNETES_RESERVED = ['apiVersion', 'kind', 'metadata', 'status'] as const;
const KUBERNETES_METADATA_KEYS = ['name', 'labels', 'annotations', 'namespace'] as const;

/**
 * Which form a document has: Kubernetes when it has `apiVersion` or `metadata.name`, Syncline
 * otherwise. Both at once (a top-level `name` beside them) is refused: which name is meant?
 */
function readEnvelope(json: JsonObject, issues: IssueList): Envelope {
  const meta = hasOwn(json, 'metadata') ? json['metadata'] : undefined;
  const kubernetes = hasOwn(json, 'apiVersion') || (isJsonObject(meta) && hasOwn(meta, 'name'));
  if (kubernetes && hasOwn(json, 'name')) {
    issues.add(
      'mixed_forms',
      '/name',
      "mixes the two document forms: a top-level 'name' (Syncline form) with apiVersion/metadata.name (Kubernetes form) — " +
        'use either kind, name, spec or apiVersion, kind, metadata.name, spec',
    );
  }
  return kubernetes ? readKubernetesEnvelope(json, issues) : readSynclineEnvelope(json, issues);
}

function readKindField(json: JsonObject, issues: IssueList): string | null {
  const value = hasOwn(json, 'kind') ? json['kind'] : undefined;
  if (value === undefined) issues.add('missing_field', '', "missing required field 'kind'");
  else if (typeof value !== 'string') issues.add('invalid_field', '/kind', `kind must be a string (got ${describeJson(value)})`);
  else return value;
  return null;
}

function readName(value: JsonValue | undefined, pointer: string, field: string, issues: IssueList): string | null {
  if (value === undefined) issues.add('missing_field', pointer === '/name' ? '' : '/metadata', `missing required field '${field}'`);
  else if (typeof value !== 'string') {
    const hint = typeof value === 'number' || typeof value === 'boolean' ? ` — quote it: "${String(value)}"` : '';
    issues.add('invalid_field', pointer, `${field} must be a string (got ${describeJson(value)})${hint}`);
  } else if (!NAME_PATTERN.test(value)) {
    issues.add(
      'invalid_field',
      pointer,
      `${field} ${JSON.stringify(value)} is not valid: use 1-253 letters, digits, '.', '_' or '-', starting and ending with a letter or digit`,
    );
  } else return value;
  return null;
}

/** A mapping of string → string (labels, annotations); keys checked with `keyPattern` when given. */
function readStringMap(value: JsonValue, pointer: string, what: string, issues: IssueList, keyPattern?: RegExp): Record<string, string> | undefined {
  if (!isJsonObject(value)) {
    issues.add('invalid_field', pointer, `${pointer.slice(1).replace('/', '.')} must be a mapping of strings (got ${describeJson(value)})`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const key of Object.keys(value)) {
    const ptr = `${pointer}/${escapeSegment(key)}`;
    const v = value[key] as JsonValue;
    if (keyPattern && !keyPattern.test(key)) {
      issues.add('invalid_field', ptr, `${what} key ${JSON.stringify(key)} is not valid: use letters, digits, '.', '_', '-' or '/', starting and ending with a letter or digit`);
    } else if (typeof v !== 'string') {
      issues.add('invalid_field', ptr, `${what} '${key}' must be a string (got ${describeJson(v)}) — quote it`);
    } else {
      setOwn(out as JsonObject, key, v);
    }
  }
  return out;
}

function readSpecMapping(value: JsonValue | undefined, issues: IssueList): JsonObject | null {
  if (value === undefined) issues.add('missing_field', '', "missing required field 'spec'");
  else if (!isJsonObject(value)) issues.add('invalid_field', '/spec', `spec must be a mapping (got ${describeJson(value)})`);
  else return value;
  return null;
}

/** `kind`, `name`, `spec`, optional `metadata` (`labels`, `description`). */
function readSynclineEnvelope(json: JsonObject, issues: IssueList): Envelope {
  for (const key of Object.keys(json)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      issues.add('unknown_field', formatPointer([key]), `unknown top-level field '${key}' (allowed: kind, name, spec, metadata; or use the Kubernetes form with apiVersion)`);
    }
  }
  const kindName = readKindField(json, issues);
  const name = readName(hasOwn(json, 'name') ? json['name'] : undefined, '/name', 'name', issues);
  const spec = readSpecMapping(hasOwn(json, 'spec') ? json['spec'] : undefined, issues);
  const metadata: SpecMetadata = {};
  const metaValue = hasOwn(json, 'metadata') ? json['metadata'] : undefined;
  if (metaValue !== undefined) {
    if (!isJsonObject(metaValue)) {
      issues.add('invalid_field', '/metadata', `metadata must be a mapping with labels and/or description (got ${describeJson(metaValue)})`);
    } else {
      for (const key of Object.keys(metaValue)) {
        if (!(METADATA_KEYS as readonly string[]).includes(key)) {
          issues.add('unknown_field', formatPointer(['metadata', key]), `unknown metadata field '${key}' (allowed: labels, description)`);
        }
      }
      if (hasOwn(metaValue, 'labels')) {
        const labels = readStringMap(metaValue['labels'] as JsonValue, '/metadata/labels', 'label', issues, LABEL_KEY_PATTERN);
        if (labels) metadata.labels = labels;
      }
      if (hasOwn(metaValue, 'description')) {
        const description = metaValue['description'];
        if (typeof description !== 'string') {
          issues.add('invalid_field', '/metadata/description', `metadata.description must be a string (got ${describeJson(description as JsonValue)})`);
        } else metadata.description = description;
      }
    }
  }
  return { form: 'syncline', kindName, apiVersion: null, name, spec, specFromBody: false, metadata };
}

/**
 * `apiVersion`, `kind`, `metadata` (`name`, `labels`, `annotations`, `namespace`) and `spec` —
 * or, without `spec`, the body: every top-level key but apiVersion, kind, metadata and status.
 * `status` is ignored. apiVersion, annotations and namespace are kept in the metadata.
 */
function readKubernetesEnvelope(json: JsonObject, issues: IssueList): Envelope {
  const kindName = readKindField(json, issues);
  const metadata: SpecMetadata = {};
  let apiVersion: string | null = null;
  const apiValue = hasOwn(json, 'apiVersion') ? json['apiVersion'] : undefined;
  if (apiValue === undefined) issues.add('missing_field', '', "missing required field 'apiVersion' (a document with metadata.name is in the Kubernetes form)");
  else if (typeof apiValue !== 'string' || !API_VERSION_PATTERN.test(apiValue)) {
    issues.add('invalid_field', '/apiVersion', `apiVersion must be 'group/version' or 'version', e.g. apps/v1 or v1 (got ${describeJson(apiValue)})`);
  } else {
    apiVersion = apiValue;
    metadata.apiVersion = apiValue;
  }

  let name: string | null = null;
  const metaValue = hasOwn(json, 'metadata') ? json['metadata'] : undefined;
  if (metaValue === undefined) issues.add('missing_field', '', "missing required field 'metadata' (with metadata.name)");
  else if (!isJsonObject(metaValue)) issues.add('invalid_field', '/metadata', `metadata must be a mapping with name (got ${describeJson(metaValue)})`);
  else {
    for (const key of Object.keys(metaValue)) {
      if (!(KUBERNETES_METADATA_KEYS as readonly string[]).includes(key)) {
        issues.add('unknown_field', formatPointer(['metadata', key]), `unknown metadata field '${key}' (allowed: name, labels, annotations, namespace)`);
      }
    }
    name = readName(hasOwn(metaValue, 'name') ? metaValue['name'] : undefined, '/metadata/name', 'metadata.name', issues);
    if (hasOwn(metaValue, 'labels')) {
      const labels = readStringMap(metaValue['labels'] as JsonValue, '/metadata/labels', 'label', issues, LABEL_KEY_PATTERN);
      if (labels) metadata.labels = labels;
    }
    if (hasOwn(metaValue, 'annotations')) {
      const annotations = readStringMap(metaValue['annotations'] as JsonValue, '/metadata/annotations', 'annotation', issues, LABEL_KEY_PATTERN);
      if (annotations) metadata.annotations = annotations;
    }
    if (hasOwn(metaValue, 'namespace')) {
      const ns = metaValue['namespace'];
      if (typeof ns !== 'string' || ns === '') issues.add('invalid_field', '/metadata/namespace', `metadata.namespace must be a string (got ${describeJson(ns as JsonValue)})`);
      else metadata.namespace = ns;
    }
  }

  const bodyKeys = Object.keys(json).filter((k) => !(KUBERNETES_RESERVED as readonly string[]).includes(k));
  let spec: JsonObject | null;
  let specFromBody = false;
  if (hasOwn(json, 'spec')) {
    for (const key of bodyKeys) {
      if (key !== 'spec') {
        issues.add('unknown_field', formatPointer([key]), `unknown top-level field '${key}' beside spec (with spec, only apiVersion, kind, metadata, spec and status are allowed)`);
      }
    }
    spec = readSpecMapping(json['spec'], issues);
  } else {
    spec = {};
    specFromBody = true;
    for (const key of bodyKeys) setOwn(spec, key, json[key] as JsonValue);
  }
  return { form: 'kubernetes', kindName, apiVersion, name, spec, specFromBody, metadata };
}

/**
 * The kind a document names. Syncline form: the kind itself. Kubernetes form with a group
 * (`apps/v1`): the kind `<Kind>.<group>` when the server has it, else `<Kind>`. A kind that
 * declares `api_versions` refuses any other apiVersion. Without a registry only the name's shape
 * is checked.
 */
function resolveKind(envelope: Envelope, registry: KindRegistry | undefined, issues: IssueList): string | null {
  const name = envelope.kindName;
  if (name === null) return null;
  if (!registry) {
    if (!KIND_NAME_PATTERN.test(name)) {
      issues.add('invalid_field', '/kind', `kind '${name}' is not a valid kind name (must match ${KIND_NAME_PATTERN.source})`);
      return null;
    }
    return name;
  }
  const found = registry.resolve(name, envelope.apiVersion);
  if (!found) {
    const tried = envelope.apiVersion?.includes('/') ? ` (looked for '${name}.${envelope.apiVersion.split('/')[0]}' and '${name}')` : '';
    issues.add('unknown_kind', '/kind', `unknown kind '${name}'${tried} (known kinds: ${registry.names().join(', ')})`);
    return null;
  }
  if (found.apiVersions && envelope.apiVersion !== null && !found.apiVersions.includes(envelope.apiVersion)) {
    issues.add('unsupported_api_version', '/apiVersion', `kind '${found.name}' accepts apiVersion ${found.apiVersions.join(', ')}, not '${envelope.apiVersion}'`);
    return null;
  }
  if (found.apiVersions && envelope.apiVersion === null && envelope.form === 'syncline') {
    // A Syncline-form document has no apiVersion: accepted (the kind names itself).
  }
  return found.name;
}

/**
 * Body-form documents: the spec's keys sit at the top level, so `/data/x` in the file is
 * `/spec/data/x` in the document. Positions get the `/spec` aliases so every later message
 * (schema violations, merged results) points at the right line.
 */
function kubernetesPositions(positions: Record<string, Position>, specFromBody: boolean): Record<string, Position> {
  if (!specFromBody) return positions;
  const out: Record<string, Position> = { ...positions };
  for (const pointer of Object.keys(positions)) {
    if (pointer === '') continue;
    const top = parsePointer(pointer)[0] as string;
    if ((KUBERNETES_RESERVED as readonly string[]).includes(top)) continue;
    const alias = `/spec${pointer}`;
    if (!hasOwn(out, alias)) out[alias] = positions[pointer] as Position;
  }
  if (!hasOwn(out, '/spec')) out['/spec'] = positions[''] as Position;
  return out;
}

/** Position of `pointer`, or of its nearest ancestor that has one (a missing field → its parent's key). */
export function positionFor(positions: Record<string, Position>, pointer: string, fallback: Position): Position {
  let segments: string[];
  try {
    segments = parsePointer(pointer);
  } catch {
    return fallback;
  }
  for (let n = segments.length; n >= 0; n--) {
    const p = positions[formatPointer(segments.slice(0, n))];
    if (p) return p;
  }
  return fallback;
}

function describeScalar(node: unknown): string {
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    return `${typeof v} ${String(v)}`;
  }
  return 'unknown';
}

/** A quoted scalar or flow collection that runs up to `offset` without being closed. */
function unclosedAt(contents: unknown, offset: number): { start: number; what: string } | null {
  if (contents === null || contents === undefined) return null;
  let found: { start: number; what: string } | null = null;
  const check = (node: { range?: [number, number, number] | null }, what: string): symbol | undefined => {
    if (node.range && node.range[1] === offset) {
      found = { start: node.range[0], what };
      return visit.BREAK;
    }
    return undefined;
  };
  visit(contents as Node, {
    Scalar(_, node) {
      if (node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE') {
        return check(node, node.type === 'QUOTE_SINGLE' ? 'single-quoted string' : 'double-quoted string');
      }
      return undefined;
    },
    Seq(_, node) {
      return node.flow ? check(node, 'flow sequence [') : undefined;
    },
    Map(_, node) {
      return node.flow ? check(node, 'flow mapping {') : undefined;
    },
  });
  return found;
}

/** The text of the scalar mapping key starting at `offset`, if any. */
function keyAt(contents: unknown, offset: number): string | null {
  let found: string | null = null;
  if (contents === null || contents === undefined) return null;
  visit(contents as Node, {
    Pair(_, pair) {
      const key = pair.key as unknown;
      if (isScalar(key) && key.range?.[0] === offset) {
        found = String(key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** Best effort kind/name of a broken document (only when they are plain, valid strings). */
function guessIdentity(contents: unknown): { kind: string | null; name: string | null } {
  let kind: string | null = null;
  let name: string | null = null;
  if (isMap(contents)) {
    for (const pair of contents.items) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) continue;
      const v = pair.value.value;
      if (typeof v !== 'string') continue;
      if (pair.key.value === 'kind' && KIND_NAME_PATTERN.test(v)) kind = v;
      if (pair.key.value === 'name' && NAME_PATTERN.test(v)) name = v;
    }
  }
  return { kind, name };
}

function toInvalid(file: string, kind: string | null, name: string | null, issues: Issue[]): InvalidResult {
  const sorted = issues.slice().sort((a, b) => a.line - b.line || a.column - b.column);
  const first = sorted[0] as Issue;
  const shown = sorted.slice(0, DEFAULT_PARSE_LIMITS.maxIssuesPerDocument);
  let message = shown.map((i) => `${file}:${i.line}:${i.column}: ${i.text}`).join('; ');
  if (sorted.length > shown.length) message += `; … and ${sorted.length - shown.length} more problem(s)`;
  return { kind, name, file, line: first.line, column: first.column, code: first.code, message, path: first.path };
}

/** YAML AST → plain JSON, recording key positions and enforcing the limits described above. */
class Converter {
  readonly positions: Record<string, Position> = {};
  private aliasCount = 0;
  private readonly expanding = new Set<unknown>();

  constructor(
    private readonly doc: Document.Parsed,
    private readonly posOf: (offset: number) => Position,
    private readonly limits: Limits,
  ) {}

  private nodePos(node: unknown): Position {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range ? this.posOf(range[0]) : { line: 1, column: 1 };
  }

  private fail(code: InvalidCode, pos: Position, segments: readonly string[], text: string): never {
    throw new IssueError({ code, ...pos, path: formatPointer(segments), text });
  }

  private record(segments: readonly string[], pos: Position): void {
    const key = formatPointer(segments);
    if (!hasOwn(this.positions, key)) this.positions[key] = pos;
  }

  /**
   * `via` is the position of the alias being expanded, if any: problems inside point there.
   * A problem points at the KEY of the offending entry (recorded by the parent mapping before
   * descending), at the item for list items, or at the alias being expanded.
   */
  convert(node: unknown, segments: string[], depth: number, via: Position | null): JsonValue {
    const pointer = formatPointer(segments);
    if (!hasOwn(this.positions, pointer)) this.positions[pointer] = via ?? this.nodePos(node);
    const here = this.positions[pointer] as Position;

    if (isAlias(node)) {
      this.aliasCount += 1;
      if (this.aliasCount > this.limits.maxAliasCount) {
        this.fail('alias_limit', here, segments, `more than ${this.limits.maxAliasCount} alias expansions in one document (alias bomb?)`);
      }
      const target = node.resolve(this.doc);
      if (target === undefined) this.fail('yaml_syntax', here, segments, `unknown alias *${node.source}`);
      if (this.expanding.has(target)) this.fail('alias_limit', here, segments, `alias *${node.source} refers to itself`);
      this.expanding.add(target);
      try {
        return this.convert(target, segments, depth, here);
      } finally {
        this.expanding.delete(target);
      }
    }

    const tag = (node as { tag?: string }).tag;
    if (tag !== undefined && !CORE_TAGS.has(tag)) {
      this.fail('unsupported_yaml', here, segments, `explicit tag ${shortTag(tag)} is not supported (values must be plain JSON)`);
    }

    if (isScalar(node)) {
      const v = node.value;
      if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) {
          this.fail('invalid_number', here, segments, `${node.source || String(v)} is not a JSON number (infinity and NaN are not allowed)`);
        }
        if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
          this.fail('invalid_number', here, segments, `${node.source || String(v)} is beyond ±9007199254740991 and would lose precision — quote it as a string`);
        }
        return v;
      }
      this.fail('unsupported_yaml', here, segments, `value of type ${typeof v} is not plain JSON`);
    }

    if (depth >= this.limits.maxDepth && (isMap(node) || isSeq(node))) {
      this.fail('too_deep', here, segments, `nesting deeper than ${this.limits.maxDepth} levels`);
    }

    if (isMap(node)) {
      const out: JsonObject = {};
      for (const pair of node.items) {
        const keyNode = pair.key as unknown;
        const keyPos = via ?? (keyNode ? this.nodePos(keyNode) : here);
        const key = this.keyString(keyNode, keyPos, segments);
        const childSegments = [...segments, key];
        if (hasOwn(out, key)) {
          this.fail('duplicate_key', keyPos, childSegments, `duplicate key '${key}' (keys in a mapping must be unique)`);
        }
        this.record(childSegments, keyPos);
        const value = pair.value == null ? null : this.convert(pair.value, childSegments, depth + 1, via);
        setOwn(out, key, value);
      }
      return out;
    }

    if (isSeq(node)) {
      const out: JsonValue[] = [];
      node.items.forEach((item, i) => {
        const childSegments = [...segments, String(i)];
        out.push(item == null ? null : this.convert(item, childSegments, depth + 1, via));
      });
      return out;
    }

    return this.fail('unsupported_yaml', here, segments, 'unsupported YAML node');
  }

  private keyString(keyNode: unknown, pos: Position, segments: readonly string[]): string {
    if (keyNode === null || keyNode === undefined) this.fail('unsupported_yaml', pos, segments, 'empty mapping key');
    if (isAlias(keyNode)) this.fail('unsupported_yaml', pos, segments, 'aliases cannot be used as mapping keys');
    if (!isScalar(keyNode)) this.fail('unsupported_yaml', pos, segments, 'mapping keys must be strings, not lists or mappings');
    const tag = keyNode.tag;
    if (tag !== undefined && !CORE_TAGS.has(tag)) {
      this.fail('unsupported_yaml', pos, segments, `explicit tag ${shortTag(tag)} is not supported`);
    }
    const v = keyNode.value;
    if (keyNode.type === 'PLAIN' && v === '<<') {
      this.fail('unsupported_yaml', pos, segments, "merge keys ('<<') are not supported; write the fields out");
    }
    if (typeof v === 'string') return v;
    if (v === null) this.fail('unsupported_yaml', pos, segments, 'null mapping key (keys must be strings)');
    if (typeof v === 'number' || typeof v === 'boolean') {
      // Keep the key as written: `404: x` → "404", `0x10: y` → "0x10".
      return keyNode.source ?? String(v);
    }
    return this.fail('unsupported_yaml', pos, segments, 'mapping keys must be strings');
  }
}

function shortTag(tag: string): string {
  return tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag;
}
