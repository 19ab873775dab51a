/**
 * Three replicas (real `syncline serve` processes) on one PostgreSQL schema behind a round-robin
 * proxy; syncs over several namespaces while replicas are `kill -9`'d and restarted. Afterwards:
 * no namespace in a mixed state, every 200 answer has its deployment row, every deployment's event
 * reached RabbitMQ (deduped by id: exactly the set of deployments), per-namespace order kept, and
 * each kill of the outbox relay's holder was followed by another replica taking it over within
 * 10 s. The small version of `npm run soak -- replicas` (200 syncs, 20 namespaces, 50 kills).
 * A fresh exchange and queue per run on the shared broker (never stopped here).
 */
import { describe, expect, it } from 'vitest';
import { DIALECTS } from '../../helpers/db.js';
import { cleanupTempDirs } from '../../helpers/git-fixtures.js';
import { runKillScenario } from '../../helpers/kill-scenario.js';

describe.runIf(DIALECTS.includes('postgres'))('replicas killed during syncs', () => {
  it('3 replicas, 24 syncs over 4 namespaces, 4 kills: no mixed state, no lost row or event, order kept', { timeout: 600_000 }, async () => {
    try {
      const r = await runKillScenario({ replicas: 3, namespaces: 4, syncs: 24, kills: 4, concurrency: 3 });
      expect(r.kills).toBe(4);
      expect(r.syncs).toBe(24);
      expect(r.mixed).toEqual([]);
      expect(r.missingRows).toEqual([]);
      expect(r.events.missing).toBe(0);
      expect(r.events.unexpected).toBe(0);
      expect(r.outOfOrder).toEqual([]);
      // Every answer is a 200 or a clean failure of a request whose replica died under it.
      for (const key of Object.keys(r.answered)) expect(['200', '502 bad_gateway', '503 database_unavailable']).toContain(key);
      for (const ms of r.failoversMs) expect(ms).toBeLessThan(10_000);
      // After the kills: every replica listed, one holder per singleton.
      expect(r.cluster).toEqual({ replicas: 3, outbox: 1, webhooks: 1, poller: 1 });
    } finally {
      await cleanupTempDirs();
    }
  });
});
