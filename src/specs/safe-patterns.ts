/**
 * Kind schemas come from admins but are run against every document of every repository, on the
 * event loop: a `pattern` with catastrophic backtracking (`^(a+)+$`) lets one crafted value stall
 * the server. JavaScript has no linear-time engine built in, so unsafe patterns are refused when
 * a kind is stored (`PUT /kinds`), with 400 `unsafe_pattern` naming where the pattern is:
 *  - star height > 1 (a repeated group containing a repetition: `(a+)+`, `(\\w+\\s?)*`);
 *  - a quantified group with alternatives (`(a|ab)*`), which can overlap;
 *  - backreferences and lookarounds (not regular; can be exponential);
 *  - patterns longer than 1,000 characters, or that do not compile.
 * Both `pattern` and the keys of `patternProperties` are checked, anywhere in the schema.
 */
import { SynclineError } from '../errors.js';

export const MAX_PATTERN_LENGTH = 1000;

/** Why a pattern is unsafe, or null when it is fine. */
export function unsafePatternReason(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    new RegExp(pattern, 'u');
  } catch (err) {
    return `does not compile (${(err as Error).message})`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'uses a backreference';
  if (/\(\?<?[=!]/.test(pattern)) return 'uses a lookaround';
  return repetitionHazard(pattern);
}

/** `*`, `+`, `{n,}` or a bound over 10 at `rest`'s start: a repetition that can run long. */
function unboundedAt(rest: string): boolean {
  if (rest.startsWith('*') || rest.startsWith('+')) return true;
  const m = /^\{(\d*)(,(\d*))?\}/.exec(rest);
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 10;
  return m[3] === '' || Number(m[3]) > 10;
}

/**
 * Finds the shapes behind catastrophic backtracking: a repeated group that itself contains a
 * repetition (star height > 1: `(a+)+`, `(\\w+\\s?)*`) or alternatives (`(a|ab)*`).
 */
function repetitionHazard(pattern: string): string | null {
  const open: { repeats: boolean; alt: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      if (!inClass && open.length && unboundedAt(pattern.slice(i + 1))) open[open.length - 1]!.repeats = true;
      continue;
    }
    if (inClass) {
      if (c === ']') {
        inClass = false;
        if (open.length && unboundedAt(pattern.slice(i + 1))) open[open.length - 1]!.repeats = true;
      }
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') open.push({ repeats: false, alt: false });
    else if (c === '|' && open.length) open[open.length - 1]!.alt = true;
    else if (c === ')') {
      const group = open.pop();
      const repeated = unboundedAt(pattern.slice(i + 1));
      if (group && repeated && group.repeats) return 'may backtrack catastrophically (a repeated group containing a repetition)';
      if (group && repeated && group.alt) return 'may backtrack catastrophically (a repeated group with alternatives)';
      if (open.length && (repeated || group?.repeats)) open[open.length - 1]!.repeats = true;
    } else if (open.length && c !== '*' && c !== '+' && c !== '?' && unboundedAt(pattern.slice(i + 1))) {
      open[open.length - 1]!.repeats = true;
    }
  }
  return null;
}

/** Throws 400 `unsafe_pattern` for the first unsafe `pattern` / `patternProperties` key in a schema. */
export function assertSafePatterns(schema: unknown): void {
  const stack: { value: unknown; path: string }[] = [{ value: schema, path: '' }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, path: `${path}/${i}` }));
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    for (const [key, child] of Object.entries(value)) {
      const here = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (key === 'pattern' && typeof child === 'string') check(child, here);
      if (key === 'patternProperties' && child && typeof child === 'object' && !Array.isArray(child)) {
        for (const p of Object.keys(child)) check(p, `${here}/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      }
      stack.push({ value: child, path: here });
    }
  }
}

function check(pattern: string, pointer: string): void {
  const why = unsafePatternReason(pattern);
  if (why) {
    throw new SynclineError('unsafe_pattern', `Schema pattern at ${pointer || '/'} ${why}; use a simpler pattern`, {
      pointer,
      pattern: pattern.slice(0, 200),
    });
  }
}
