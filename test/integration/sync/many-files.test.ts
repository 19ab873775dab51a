/**
 * A sync with enough files to use the parse workers (≥ 2,000 to parse that the YAML fast path
 * will not read: these start with a `%YAML` directive, which it leaves to the library): this thread
 * parses a share itself while the workers parse the rest. Whichever side parsed a file, the
 * result is the same: invalid documents in both shares and a duplicate across them are reported
 * exactly, and a fixed commit creates every resource. Correctness only: nothing here is timed.
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../helpers/db.js';
import { commitFiles, makeRepo } from '../../helpers/git-fixtures.js';
import { createSource, ok, putNamespace, sync, syncReq, useSyncSuite, workload as plainWorkload } from './support.js';

const N = 2100;
/** A directive first: the library parses it, so the files go to the parse workers. */
const workload = (...args: Parameters<typeof plainWorkload>): string => `%YAML 1.2\n---\n${plainWorkload(...args)}`;
const file = (i: number) => `cfg/svc-${String(i).padStart(5, '0')}.yaml`;

for (const dialect of DIALECTS) {
  describe(dialect, () => {
    const s = useSyncSuite(dialect);

    it(`${N} files: invalid and duplicate documents found in both shares, then every resource created`, async () => {
      const repo = await makeRepo({ root: s.root, name: 'many' });
      const files: Record<string, string> = {};
      for (let i = 0; i < N; i++) files[file(i)] = workload(`svc-${i}`, `port: ${1024 + i}`);
      // Broken in the first files (this thread's share) and in the last ones (the workers').
      files[file(1)] = workload('svc-1', 'port: not-a-number');
      files[file(N - 2)] = workload(`svc-${N - 2}`, 'port: 99999999');
      files[file(N - 1)] = workload('svc-0', 'port: 8080'); // the same name as the first file
      await commitFiles(repo, files, 'many, some broken');
      await createSource(s.t, 'many', s.server.repoUrl('many'));
      await putNamespace(s.t, 'many.prod', { source: 'many', branch: 'main', path: 'cfg' });

      const failed = await syncReq(s.t, 'many.prod');
      expect(failed.statusCode, failed.body).toBe(422);
      const d = failed.json().error.details.deployment;
      const invalid = d.results.filter((r: { operation: string }) => r.operation === 'invalid');
      expect(invalid.map((r: { file: string; code: string }) => `${r.file} ${r.code}`).sort()).toEqual(
        [`${file(0)} duplicate_resource`, `${file(1)} schema_violation`, `${file(N - 2)} schema_violation`, `${file(N - 1)} duplicate_resource`].sort(),
      );
      expect(d.summary.invalid).toBe(4);

      files[file(1)] = workload('svc-1', 'port: 1025');
      files[file(N - 2)] = workload(`svc-${N - 2}`, `port: ${1024 + N - 2}`);
      files[file(N - 1)] = workload(`svc-${N - 1}`, `port: ${1024 + N - 1}`);
      await commitFiles(repo, files, 'fixed');
      const done = await sync(s.t, 'many.prod');
      expect(done.summary).toMatchObject({ create: N, invalid: 0 });
      const listed = ok(await s.t.app.inject({ method: 'GET', url: '/api/v1/namespaces/many.prod/resources', headers: s.t.auth() })).items;
      expect(listed).toHaveLength(N);
      expect(listed.find((r: { name: string }) => r.name === `svc-${N - 1}`).spec.port).toBe(1024 + N - 1);
      // Two syncs of 2,100 files and their commits: ~10 s on a quiet machine, 50–60 s at load 20.
    }, 180_000);
  });
}
