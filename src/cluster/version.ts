import fs from 'node:fs';

/** The package version, reported by each replica in the registry. */
export const SYNCLINE_VERSION: string = (() => {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const v = (JSON.parse(fs.readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string });
      if (v.name === 'syncline' && v.version) return v.version;
    } catch {
      // try the next location (compiled layout differs)
    }
  }
  return 'unknown';
})();
