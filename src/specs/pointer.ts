/**
 * JSON Pointer (RFC 6901) helpers. Pointers in Syncline are document-relative
 * (`/spec/port`, `/metadata/labels/team`) unless a function says otherwise.
 */
import { getOwn, isJsonObject } from './json.js';
import type { JsonValue } from '../contracts/json.js';

export function escapeSegment(segment: string): string {
  // Most keys need no escape: answer them without running the two replacements.
  if (!segment.includes('~') && !segment.includes('/')) return segment;
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function unescapeSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function formatPointer(segments: readonly string[]): string {
  return segments.map((s) => `/${escapeSegment(s)}`).join('');
}

/** `""` → `[]`; `/a/b~1c` → `['a', 'b/c']`. Throws on a pointer that does not start with `/` or has a bad escape. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer must start with '/': ${JSON.stringify(pointer)}`);
  if (/~[^01]|~$/.test(pointer)) throw new Error(`JSON pointer has an invalid '~' escape: ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map(unescapeSegment);
}

const SEGMENTS_MAX = 50_000;
const segmentsOf = new Map<string, readonly string[]>();

/**
 * `parsePointer`, remembered (frozen, read-only): planning parses the same few pointers
 * (`/spec/port`, …) for every document of a kind. Throws like parsePointer (nothing remembered).
 */
export function pointerSegments(pointer: string): readonly string[] {
  let segs = segmentsOf.get(pointer);
  if (segs === undefined) {
    segs = Object.freeze(parsePointer(pointer));
    if (segmentsOf.size >= SEGMENTS_MAX) segmentsOf.clear();
    segmentsOf.set(pointer, segs);
  }
  return segs;
}

export function isValidPointer(pointer: string): boolean {
  try {
    parsePointer(pointer);
    return true;
  } catch {
    return false;
  }
}

const INDEX = /^(0|[1-9][0-9]*)$/;

/** Value at `segments` below `root`, or undefined when any step is missing. */
export function getAt(root: JsonValue | undefined, segments: readonly string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = root;
  // An index loop: iterating the (frozen) segment arrays allocated an iterator result per step.
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    if (Array.isArray(cur)) {
      if (!INDEX.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (isJsonObject(cur)) {
      cur = getOwn(cur, seg);
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** True when `prefix` equals `segments` or is an ancestor of it. */
export function isPrefixOf(prefix: readonly string[], segments: readonly string[]): boolean {
  if (prefix.length > segments.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== segments[i]) return false;
  return true;
}
