/**
 * The reachability hook's shortcut (reachability-hook.ts): when every want is one of the tips the
 * server passed in SYNCLINE_MIRROR_TIPS, the input goes straight to pack-objects without a git
 * process; any other want takes the full check. Run here with a PATH that holds only `cat`, so
 * the full check (which needs sed and git) cannot succeed: passing proves the shortcut, failing
 * proves it was not taken.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REACHABILITY_HOOK } from '../../../src/mirror/reachability-hook.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-hook-bin-'));
fs.symlinkSync(spawnSync('sh', ['-c', 'command -v cat']).stdout.toString().trim(), path.join(bin, 'cat'));
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

/** Runs the hook as upload-pack does (the pack-objects command appended), with `cat` standing in for pack-objects. */
function hook(input: string, tips: string | undefined) {
  const env: NodeJS.ProcessEnv = { PATH: bin, ...(tips !== undefined ? { SYNCLINE_MIRROR_TIPS: tips } : {}) };
  return spawnSync('/bin/sh', ['-c', `${REACHABILITY_HOOK} "$@"`, 'hook', 'cat'], { input, env });
}

describe('reachability hook shortcut', () => {
  it('passes the input to pack-objects unchanged when every want is a tip (no git process)', () => {
    const input = `--shallow ${C}\n${A}\n${B}\n--not\n${C}\n`;
    const r = hook(input, `${A} ${B}`);
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(r.stdout.toString()).toBe(input);
  });

  it('takes the full check when one want is not a tip (haves after --not do not count)', () => {
    expect(hook(`${A}\n${C}\n--not\n${B}\n`, `${A} ${B}`).status).not.toBe(0);
    expect(hook(`${C}\n--not\n${A}\n`, `${A} ${B}`).status).not.toBe(0);
  });

  it('matches whole ids only, never a prefix or a pattern', () => {
    expect(hook(`${'a'.repeat(39)}\n`, `${A}`).status).not.toBe(0);
    expect(hook(`*\n`, `${A}`).status).not.toBe(0);
  });

  it('takes the full check without tips (the server could not read them)', () => {
    expect(hook(`${A}\n`, undefined).status).not.toBe(0);
    expect(hook(`${A}\n`, '').status).not.toBe(0);
  });
});
