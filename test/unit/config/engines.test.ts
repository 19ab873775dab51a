/**
 * Every installed dependency supports the Node versions the README names (package.json
 * `engines.node`, today >= 20.19): `npm ci` on Node 20 must print no EBADENGINE warning. A
 * dependency that needs Node 22 is pinned or replaced (see `overrides` in package.json).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('dependency engines', () => {
  it('every package in the lock file runs on the oldest Node the project supports', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(semver.satisfies('20.19.0', pkg.engines.node)).toBe(true);
    const bad: string[] = [];
    for (const [where, entry] of Object.entries<any>(lock.packages)) {
      if (!where || entry.optional || !entry.engines?.node) continue;
      // Check the oldest supported Node and the one CI runs (20.x).
      for (const node of [oldest, '20.20.2']) {
        if (!semver.satisfies(node, entry.engines.node)) bad.push(`${where}@${entry.version} needs node ${entry.engines.node} (not ${node})`);
      }
    }
    expect(bad).toEqual([]);
  });
});
