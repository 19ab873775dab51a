/**
 * A fast path for the plain YAML most spec files are: one document of block mappings and block
 * lists whose keys are simple words and whose values are one-line plain or simply quoted
 * scalars, with comments and blank lines. Such a file is read line by line into the JSON value
 * and the key positions that parse.ts's Converter makes from the `yaml` library's document
 * tree, at a fraction of the cost (the library builds a CST, then a node tree, then we walk it).
 *
 * It answers null — "parse it with the library" — for ANYTHING outside that subset: tabs, CR,
 * control or non-ASCII characters, document markers and directives (but a plain `---` first line), anchors, aliases, tags,
 * flow collections, block scalars, multi-line or quoted-with-escapes scalars, empty list items,
 * keys that are not simple words or are null-like, duplicate keys, indentation it does not
 * expect, values YAML would read as something other than a string, a finite number, a boolean or
 * null (`.inf`, `.nan`, unsafe integers), deep nesting. So every error and warning the strict
 * parser reports, with its position, still comes from the library: the fast path never accepts a
 * file the library would refuse, and what it returns is what the library's document converts to.
 * `test/unit/specs/fast-yaml.test.ts` checks that against the library on generated documents.
 */
import { escapeSegment } from './pointer.js';
import { hasOwn, setOwn } from './json.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';
import type { Position } from './types.js';

/** One document read by the fast path: what Converter would give, and where the document starts. */
export interface FastDocument {
  json: JsonObject;
  positions: Record<string, Position>;
  line: number;
  column: number;
}

/** Nesting beyond this (well under the parser's limit) goes to the library, which enforces the limit. */
const MAX_FAST_DEPTH = 32;
const MAX_LINE = 1000;
const KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}$/;
const NULL_RE = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL_RE = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT_RE = /^0o[0-7]+$/;
const INT_RE = /^[-+]?[0-9]+$/;
const INT_HEX_RE = /^0x[0-9a-fA-F]+$/;
const FLOAT_SPECIAL_RE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP_RE = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT_RE = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
/** First characters (ASCII codes) with which a plain scalar can read as null, a boolean or a number. */
const MAY_RESOLVE: readonly boolean[] = Array.from({ length: 128 }, (_, c) => '~nNtTfF+-.0123456789'.includes(String.fromCharCode(c)));
/** First characters a plain scalar may start with here (YAML indicators and quotes are not among them). */
const PLAIN_START_RE = /^[A-Za-z0-9_./+~]/;

interface Line {
  /** 1-based line number. */
  no: number;
  /** Column (0-based) where `body` starts. */
  indent: number;
  /** The line from its first non-space character. */
  body: string;
}

/** Thrown inside the fast path: "not for me", the library parses the file. */
class NotFast extends Error {}
const NOT_FAST = new NotFast('not fast');

/**
 * The file's one document as Converter would make it, or null when the file is outside the
 * subset (the caller parses it with the library). A file with no content at all is null too.
 */
export function fastParseDocument(text: string, maxDepth: number): FastDocument | null {
  const lines = contentLines(text);
  if (lines === null || lines.length === 0) return null;
  const first = lines[0]!;
  if (first.indent !== 0 || isSeqItem(first.body)) return null;
  try {
    const reader = new Reader(lines, Math.min(maxDepth, MAX_FAST_DEPTH));
    const positions: Record<string, Position> = { '': { line: first.no, column: 1 } };
    const json = reader.map(0, 0, '', positions);
    if (reader.i !== lines.length) return null;
    return { json, positions, line: first.no, column: 1 };
  } catch (err) {
    if (err instanceof NotFast) return null;
    throw err;
  }
}

/**
 * A cheap look at a file's bytes: false when the fast path will certainly not read it (bytes
 * beyond ASCII, control characters but newline, `---` / `...` / `%` at a line start). True does
 * not promise it will (an anchor, a flow collection, … still send it to the library).
 */
export function mayReadFast(content: string | Uint8Array): boolean {
  return typeof content === 'string' ? screenText(content) : screenBytes(content);
}

/** mayReadFast of bytes, without a call per byte (10,000 files are ~3 MB, read in one go). */
function screenBytes(b: Uint8Array): boolean {
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 10) continue;
    if (c < 32 || c > 126) return false;
    // Only a line start can begin a marker or directive (a plain `---` first line is ours).
    if ((i === 0 || b[i - 1] === 10) && (c === 37 || ((c === 45 || c === 46) && i + 2 < n && b[i + 1] === c && b[i + 2] === c))) {
      if (!(i === 0 && c === 45 && (n === 3 || b[3] === 10))) return false;
    }
  }
  return true;
}

function screenText(text: string): boolean {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) continue;
    if (c < 32 || c > 126) return false;
    if ((i === 0 || text.charCodeAt(i - 1) === 10) && (c === 37 || ((c === 45 || c === 46) && i + 2 < n && text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c))) {
      // A plain `---` first line is the fast path's too.
      if (!(i === 0 && c === 45 && (n === 3 || text.charCodeAt(3) === 10))) return false;
    }
  }
  return true;
}

/** The lines with content (not blank, not only a comment), or null when a character or line is outside the subset. */
function contentLines(text: string): Line[] | null {
  const out: Line[] = [];
  let no = 0;
  let start = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = n;
    no += 1;
    if (end - start > MAX_LINE) return null;
    let indent = 0;
    let k = start;
    while (k < end && text.charCodeAt(k) === 32) k++;
    indent = k - start;
    for (let j = k; j < end; j++) {
      const c = text.charCodeAt(j);
      // Tabs, CR, control characters, DEL and anything beyond ASCII: the library's business.
      if (c < 32 || c > 126) return null;
    }
    if (k < end && text.charCodeAt(k) !== 35 /* # */) {
      const body = text.slice(k, end);
      // Document markers and directives, except a plain `---` on the file's first line (the
      // start of its one document, as Kubernetes manifests often begin).
      if (indent === 0 && (body.startsWith('---') || body.startsWith('...') || body[0] === '%')) {
        if (!(no === 1 && body === '---')) return null;
      } else out.push({ no, indent, body });
    }
    if (end === n) break;
    start = end + 1;
  }
  return out;
}

const isSeqItem = (body: string): boolean => body === '-' || body.startsWith('- ');

/** `key:` at the start of `body`: the key and where its value starts, or null. */
function mapKey(body: string): { key: string; rest: number } | null {
  const colon = body.indexOf(':');
  if (colon <= 0) return null;
  if (colon + 1 < body.length && body.charCodeAt(colon + 1) !== 32) return null;
  const key = body.slice(0, colon);
  if (!KEY_RE.test(key) || NULL_RE.test(key)) return null;
  let rest = colon + 1;
  while (rest < body.length && body.charCodeAt(rest) === 32) rest++;
  return { key, rest };
}

class Reader {
  i = 0;
  constructor(
    private readonly lines: Line[],
    /** Collections at this depth or deeper are the library's (which enforces the parse limit). */
    private readonly maxDepth: number,
  ) {}

  /** A block mapping whose keys are at column `indent`, starting at line this.i. */
  map(indent: number, depth: number, pointer: string, positions: Record<string, Position>): JsonObject {
    if (depth >= this.maxDepth) throw NOT_FAST;
    const out: JsonObject = {};
    // Keys that read as numbers or booleans: the library's duplicate check compares values
    // (`1` and `01`, `true` and `True` are the same key to it), so a repeat is its business.
    let valued: Set<JsonValue> | undefined;
    const lines = this.lines;
    while (this.i < lines.length) {
      const line = lines[this.i]!;
      if (line.indent < indent) break;
      if (line.indent > indent) throw NOT_FAST;
      if (isSeqItem(line.body)) {
        // A list item at the mapping's own column ends it only where a list may follow (handled by the caller).
        break;
      }
      const entry = mapKey(line.body);
      if (!entry) throw NOT_FAST;
      const { key } = entry;
      if (hasOwn(out, key)) throw NOT_FAST;
      const resolved = resolvePlain(key);
      if (typeof resolved !== 'string') {
        valued ??= new Set();
        if (valued.has(resolved)) throw NOT_FAST;
        valued.add(resolved);
      }
      const child = `${pointer}/${escapeSegment(key)}`;
      positions[child] = { line: line.no, column: indent + 1 };
      this.i += 1;
      let value: JsonValue;
      if (entry.rest >= line.body.length || line.body.charCodeAt(entry.rest) === 35 /* # */) {
        // `key:` alone: a nested block on the next lines, a list at the same column, or null.
        const next = lines[this.i];
        if (next && next.indent > indent) {
          value = this.block(next.indent, depth + 1, child, positions);
        } else if (next && next.indent === indent && isSeqItem(next.body)) {
          value = this.seq(indent, depth + 1, child, positions);
        } else {
          value = null;
        }
      } else {
        value = scalar(line.body, entry.rest);
        this.noContinuation(indent);
      }
      setOwn(out, key, value);
    }
    return out;
  }

  /** A nested block at column `indent` (a mapping or a list). */
  private block(indent: number, depth: number, pointer: string, positions: Record<string, Position>): JsonValue {
    const line = this.lines[this.i]!;
    if (isSeqItem(line.body)) return this.seq(indent, depth, pointer, positions);
    return this.map(indent, depth, pointer, positions);
  }

  /** A block list whose `-` are at column `indent`. */
  private seq(indent: number, depth: number, pointer: string, positions: Record<string, Position>): JsonValue[] {
    if (depth >= this.maxDepth) throw NOT_FAST;
    const out: JsonValue[] = [];
    const lines = this.lines;
    while (this.i < lines.length) {
      const line = lines[this.i]!;
      if (line.indent !== indent || !isSeqItem(line.body)) {
        if (line.indent > indent) throw NOT_FAST;
        break;
      }
      // `-` alone (an empty item or one on the next lines): the library's business.
      if (line.body === '-') throw NOT_FAST;
      let at = 2;
      while (at < line.body.length && line.body.charCodeAt(at) === 32) at++;
      const rest = line.body.slice(at);
      if (rest === '' || rest[0] === '#' || isSeqItem(rest)) throw NOT_FAST;
      const child = `${pointer}/${out.length}`;
      const column = line.indent + at;
      positions[child] = { line: line.no, column: column + 1 };
      if (mapKey(rest)) {
        // `- key: value`: a mapping whose keys are at the column of `key`.
        lines[this.i] = { no: line.no, indent: column, body: rest };
        out.push(this.map(column, depth + 1, child, positions));
      } else {
        out.push(scalar(rest, 0));
        this.i += 1;
        this.noContinuation(indent);
      }
    }
    return out;
  }

  /** After a one-line scalar, a more indented line would continue it (or be an error): not for the fast path. */
  private noContinuation(indent: number): void {
    const next = this.lines[this.i];
    if (next && next.indent > indent) throw NOT_FAST;
  }
}

/** The one-line scalar of `body` from `start`, as the core schema reads it. */
function scalar(body: string, start: number): JsonValue {
  const q = body.charCodeAt(start);
  if (q === 34 /* " */ || q === 39 /* ' */) {
    const close = body.indexOf(q === 34 ? '"' : "'", start + 1);
    if (close === -1) throw NOT_FAST;
    const inner = body.slice(start + 1, close);
    if (q === 34 && inner.includes('\\')) throw NOT_FAST;
    const after = body.slice(close + 1);
    // Only spaces, or spaces and a comment, after the closing quote ('' escapes land here too).
    if (!/^(?: *| +#.*)$/.test(after)) throw NOT_FAST;
    return inner;
  }
  let text = body.slice(start);
  const comment = text.indexOf(' #');
  if (comment !== -1) text = text.slice(0, comment);
  text = text.trimEnd();
  if (text === '' || !PLAIN_START_RE.test(text) && !/^-[0-9.]/.test(text)) throw NOT_FAST;
  // Characters that could start or end something else (mapping values, comments, flow, …).
  if (text.includes(': ') || text.endsWith(':') || text.includes('#') || /[[\]{}`"'\\|>&*!%@]/.test(text)) throw NOT_FAST;
  return resolvePlain(text);
}

/** A plain scalar's value in the core schema (the library's tests, in its order). */
function resolvePlain(text: string): JsonValue {
  // Every pattern below needs the text empty or starting with one of `~nNtTfF+-.` or a digit:
  // anything else is a string, without running them.
  if (text.length > 0 && !MAY_RESOLVE[text.charCodeAt(0)]) return text;
  if (NULL_RE.test(text)) return null;
  if (BOOL_RE.test(text)) return text[0] === 't' || text[0] === 'T';
  let n: number;
  if (INT_OCT_RE.test(text)) n = parseInt(text.slice(2), 8);
  else if (INT_RE.test(text)) n = parseInt(text, 10);
  else if (INT_HEX_RE.test(text)) n = parseInt(text.slice(2), 16);
  else if (FLOAT_SPECIAL_RE.test(text)) throw NOT_FAST;
  else if (FLOAT_EXP_RE.test(text) || FLOAT_RE.test(text)) n = parseFloat(text);
  else return text;
  if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) throw NOT_FAST;
  return n;
}
