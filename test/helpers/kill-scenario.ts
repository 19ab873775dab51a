/**
 * The replica-kill scenario (shared by test/integration/cluster/replica-kill.test.ts, small, and
 * `npm run soak -- replicas`, large): `replicas` processes on one PostgreSQL schema behind a
 * round-robin proxy; `syncs` syncs over `namespaces` namespaces (each namespace synced to commit 1,
 * 2, 3 … in turn, every namespace's files changing at every commit) while replicas are `kill -9`'d
 * and restarted `kills` times (spread evenly over the syncs). Events go to RabbitMQ (a fresh
 * exchange and queue of this run; the shared broker is never stopped). Returns the figures; the
 * caller asserts:
 *   - mixed: namespaces whose live resources are not all from one commit, the commit of their last
 *     deployment (0 expected);
 *   - missingRows: 200 answers whose deployment row does not exist (0 expected);
 *   - events: deployment events received, deduped by id, against the deployment rows — missing,
 *     unexpected (0 and 0 expected), duplicates (allowed: at least once);
 *   - outOfOrder: namespaces whose deployment events (first arrivals) came out of commit order (0);
 *   - failovers: for every kill of the outbox relay's holder, ms until another replica held it.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import { leaderLockKeys } from '../../src/cluster/leader.js';
import { commitFiles, makeRepo, serveGitHttp, tempDir } from './git-fixtures.js';
import { dropSchema, freshSchemaName, testPgUrl } from './db.js';
import { freePort, replicaProcess, schemaUrl, startRoundRobinProxy, type ReplicaProcess } from './cluster.js';

export interface KillScenarioOptions {
  replicas: number;
  namespaces: number;
  syncs: number;
  kills: number;
  /** Syncs in flight at once (one per namespace at a time). */
  concurrency?: number;
  /** The CLI entry the replicas run (default bin/syncline.js). */
  entry?: string;
  log?: (msg: string) => void;
}

export interface KillScenarioResult {
  syncs: number;
  answered: Record<string, number>;
  kills: number;
  leaderKills: number;
  failoversMs: number[];
  deployments: number;
  mixed: string[];
  missingRows: string[];
  events: { received: number; unique: number; duplicates: number; missing: number; unexpected: number };
  outOfOrder: string[];
  /** At the end, `GET /cluster`: replicas listed, and how many hold each singleton (1 each expected). */
  cluster: { replicas: number; outbox: number; webhooks: number; poller: number };
  /** Restarts that exited before becoming ready (then started again), with the error they printed. */
  startFailures: string[];
  lastEventAfterSyncsMs: number;
  durationMs: number;
}

const TOKEN = 'kill-scenario-admin-token-0123456789abcdef';
const KIND = {
  schema: { type: 'object', properties: { port: { type: 'integer' }, rev: { type: 'integer' } }, required: ['port'], additionalProperties: false },
};
const doc = (name: string, rev: number) => `kind: Workload\nname: ${name}\nspec:\n  port: ${1000 + rev}\n  rev: ${rev}\n`;

function request(port: number, method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: `/api/v1${url}`,
        headers: { authorization: `Bearer ${TOKEN}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json: any = null;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString());
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', () => resolve({ status: 0, json: null }));
      },
    );
    req.on('error', () => resolve({ status: 0, json: null }));
    req.end(payload);
  });
}

export async function runKillScenario(opts: KillScenarioOptions): Promise<KillScenarioResult> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const run = crypto.randomBytes(4).toString('hex');
  const schema = freshSchemaName();
  const exchange = `syncline.kill.${run}`;
  const queue = `${exchange}.v1`;
  const secretKey = crypto.randomBytes(32).toString('hex');
  const perNs = Math.ceil(opts.syncs / opts.namespaces);
  const nss = Array.from({ length: opts.namespaces }, (_, i) => `app.n${String(i).padStart(2, '0')}`);

  // Upstream: commit r sets every namespace's two documents to rev r.
  const root = await tempDir('syncline-kill-');
  const repo = await makeRepo({ root, name: 'shop' });
  const commits: string[] = [];
  const revOf = new Map<string, number>();
  for (let r = 0; r <= perNs; r++) {
    const files: Record<string, string> = {};
    for (const ns of nss) {
      files[`${ns}/api.yaml`] = doc('api', r);
      files[`${ns}/web.yaml`] = doc('web', r);
    }
    const sha = await commitFiles(repo, files, `rev ${r}`);
    commits.push(sha);
    revOf.set(sha, r);
  }
  const git = await serveGitHttp(root);

  // The consumer: this run's exchange and queue, declared as the replicas will.
  const amqp = new Connection('amqp://guest:guest@127.0.0.1:5672');
  await amqp.exchangeDeclare({ exchange, type: 'topic', durable: true });
  await amqp.exchangeDeclare({ exchange: `${exchange}.dlx`, type: 'topic', durable: true });
  await amqp.queueDeclare({ queue, durable: true, arguments: { 'x-dead-letter-exchange': `${exchange}.dlx` } });
  await amqp.queueBind({ exchange, queue, routingKey: '#' });
  const received: { id: string; type: string; ns: string; dep: string; commit: string; at: number }[] = [];
  const consumer = amqp.createConsumer({ queue, queueOptions: { passive: true } }, async (msg) => {
    const e = JSON.parse(Buffer.from(msg.body as Buffer).toString());
    received.push({ id: e.id, type: e.type, ns: e.subject, dep: e.data?.id, commit: e.data?.commit, at: Date.now() });
  });

  const replicas: ReplicaProcess[] = [];
  const admin = new pg.Client({ connectionString: testPgUrl() });
  await admin.connect();
  const proxy = await startRoundRobinProxy(() => replicas.map((r) => r.port));
  try {
    for (let i = 0; i < opts.replicas; i++) {
      const url = await schemaUrl(testPgUrl(), schema, `syncline-${schema}-r${i}`);
      replicas.push(
        replicaProcess({
          name: `r${i}`,
          port: await freePort(),
          ...(opts.entry ? { entry: opts.entry } : {}),
          env: {
            SYNCLINE_DATABASE_URL: url,
            SYNCLINE_ADMIN_TOKEN: TOKEN,
            SYNCLINE_SECRET_KEY: secretKey,
            SYNCLINE_ALLOWED_HOSTS: '127.0.0.1',
            SYNCLINE_MIRROR_INTERVAL: '0',
            // Polling on (rarely): the poller singleton is held, and checked at the end.
            SYNCLINE_POLL_INTERVAL: '3600',
            SYNCLINE_AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
            SYNCLINE_AMQP_EXCHANGE: exchange,
            SYNCLINE_AMQP_QUEUE: queue,
            SYNCLINE_DATABASE_POOL_SIZE: '5',
          },
        }),
      );
    }
    // The first alone (it migrates), then the others.
    await replicas[0]!.start();
    await Promise.all(replicas.slice(1).map((r) => r.start()));
    log(`${replicas.length} replicas ready`);

    const must = async (method: string, url: string, body?: unknown) => {
      const r = await request(proxy.port, method, url, body);
      if (r.status >= 300) throw new Error(`${method} ${url} → ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    };
    await must('PUT', '/kinds/Workload', KIND);
    await must('POST', '/sources', { name: 'shop', url: git.repoUrl('shop') });
    for (const ns of nss) await must('PUT', `/namespaces/${ns}`, { source: 'shop', branch: 'main', path: ns });

    // Who holds the outbox relay now: the application_name of the backend holding its lock.
    const [k1, k2] = leaderLockKeys(schema, 'outbox-relay');
    const holder = async (): Promise<{ pid: number; app: string } | null> => {
      const r = await admin.query<{ pid: number; app: string }>(
        `select l.pid, a.application_name as app from pg_locks l join pg_stat_activity a on a.pid = l.pid
          where l.locktype = 'advisory' and l.granted and l.classid = ($1::int)::oid and l.objid = ($2::int)::oid and l.objsubid = 2`,
        [k1, k2],
      );
      return r.rows[0] ?? null;
    };

    const startFailures: string[] = [];
    /** Starts a replica again; one that exits while starting is reported and started again (3 tries). */
    const restart = async (r: ReplicaProcess) => {
      for (let i = 0; ; i++) {
        try {
          return await r.start();
        } catch (err) {
          startFailures.push(`${r.name}: ${String((err as Error).message).split('\n').slice(1).join(' ').slice(-300)}`);
          if (i >= 2) throw err;
        }
      }
    };
    const answered: Record<string, number> = {};
    const ok200: string[] = [];
    let done = 0;
    let kills = 0;
    let leaderKills = 0;
    const failoversMs: number[] = [];
    let syncsOver = false;
    const totalSyncs = perNs * nss.length;
    const concurrency = opts.concurrency ?? 4;
    /** Kill k (0-based) is due once this many syncs are done: K kills over K+1 even stretches. */
    const trigger = (k: number) => Math.floor(((k + 1) * totalSyncs) / (opts.kills + 1));

    const killer = (async () => {
      while (kills < opts.kills && !syncsOver) {
        // Spread the kills evenly over the syncs (kill k once trigger(k) syncs are done).
        if (done < trigger(kills)) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        const victim = replicas[Math.floor(Math.random() * replicas.length)]!;
        const lead = await holder().catch(() => null);
        const wasLeader = lead?.app === `syncline-${schema}-${victim.name}`;
        const t0 = Date.now();
        await victim.kill9();
        kills++;
        if (wasLeader) {
          leaderKills++;
          // Measured while the victim restarts: the others take over without it.
          const restarting = restart(victim);
          for (;;) {
            // Another backend holds it (another replica, or the restarted victim if it was quicker).
            const h = await holder().catch(() => null);
            if (h && h.pid !== lead!.pid) {
              failoversMs.push(Date.now() - t0);
              break;
            }
            if (Date.now() - t0 > 60_000) {
              failoversMs.push(Number.POSITIVE_INFINITY);
              break;
            }
            await new Promise((r) => setTimeout(r, 25));
          }
          await restarting;
        } else {
          await restart(victim);
        }
        log(`kill ${kills}/${opts.kills} ${victim.name}${wasLeader ? ' (relay leader)' : ''}; syncs ${done}/${totalSyncs}`);
      }
    })();

    // Workers: one namespace at a time each, commits in order.
    const queueNs = [...nss];
    const worker = async () => {
      for (;;) {
        const ns = queueNs.shift();
        if (!ns) return;
        for (let r = 1; r <= perNs; r++) {
          // Keep pace with the kills so they land during the syncs.
          while (kills < opts.kills && done >= trigger(kills) + concurrency && !syncsOver) {
            await new Promise((res) => setTimeout(res, 50));
          }
          const res = await request(proxy.port, 'POST', `/namespaces/${ns}/sync-from-git`, { ref: commits[r] });
          const key = res.status === 200 ? '200' : `${res.status} ${res.json?.error?.code ?? ''}`.trim();
          answered[key] = (answered[key] ?? 0) + 1;
          if (res.status === 200) ok200.push(res.json.id);
          done++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const syncsEnded = Date.now();
    syncsOver = true;
    await killer;
    for (const r of replicas) if (!r.alive) await restart(r);

    // Checks against the database and the broker.
    const rows = (await admin.query<{ id: string; namespace: string; commit: string | null; seq: string }>(`select id, namespace, "commit", seq from "${schema}".deployments order by seq`)).rows.map(
      (r) => ({ ...r, seq: Number(r.seq) }),
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const missingRows = ok200.filter((id) => !byId.has(id));

    const mixed: string[] = [];
    for (const ns of nss) {
      const nsRow = (await admin.query<{ last_deployment_id: string | null }>(`select last_deployment_id from "${schema}".namespaces where name = $1`, [ns])).rows[0];
      const last = nsRow?.last_deployment_id ? byId.get(nsRow.last_deployment_id) : undefined;
      const res = await must('GET', `/namespaces/${ns}/resources`);
      const revs = new Set<number>((res.items as { spec: { rev: number } }[]).map((i) => i.spec.rev));
      const expected = last?.commit ? revOf.get(last.commit) : 0;
      if (revs.size !== 1 || !revs.has(expected ?? -1)) mixed.push(`${ns}: revs ${[...revs].join(',')} vs last deployment rev ${expected}`);
    }

    const deploymentEvents = () => received.filter((e) => e.type.startsWith('syncline.deployment.'));
    const deadline = Date.now() + 120_000;
    while (new Set(deploymentEvents().map((e) => e.id)).size < rows.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const lastEventAfterSyncsMs = Math.max(0, (deploymentEvents().at(-1)?.at ?? syncsEnded) - syncsEnded);
    const first = new Map<string, (typeof received)[number]>();
    for (const e of deploymentEvents()) if (!first.has(e.id)) first.set(e.id, e);
    const depsInEvents = new Set([...first.values()].map((e) => e.dep));
    const missing = rows.filter((r) => !depsInEvents.has(r.id)).length;
    const unexpected = [...depsInEvents].filter((d) => !byId.has(d)).length;
    const outOfOrder: string[] = [];
    const outboxSeq = new Map(
      (await admin.query<{ id: string; seq: number }>(`select id, seq from "${schema}".outbox`)).rows.map((r) => [r.id, Number(r.seq)] as const),
    );
    for (const ns of nss) {
      const evs = [...first.values()].filter((e) => e.ns === ns);
      const order = evs.map((e) => byId.get(e.dep)?.seq ?? -1);
      if (order.some((s, i) => i > 0 && s < order[i - 1]!)) {
        outOfOrder.push(`${ns}: ${evs.map((e) => `dep#${byId.get(e.dep)?.seq}/outbox#${outboxSeq.get(e.id)}/rev${revOf.get(e.commit)}@${e.at - started}`).join(' ')}`);
      }
    }
    // Singletons after all the kills: one holder each, every replica listed (heartbeats every 3 s).
    const roleCount = async () => {
      const c = await must('GET', '/cluster');
      const held = (role: string) => (c.replicas as { roles: string[] }[]).filter((r) => r.roles.includes(role)).length;
      return { replicas: c.replicas.length as number, outbox: held('outbox'), webhooks: held('webhooks'), poller: held('poller') };
    };
    let cluster = await roleCount();
    for (const until = Date.now() + 30_000; Date.now() < until; ) {
      cluster = await roleCount();
      if (cluster.replicas === opts.replicas && cluster.outbox === 1 && cluster.webhooks === 1 && cluster.poller === 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return {
      startFailures,
      cluster,
      syncs: done,
      answered,
      kills,
      leaderKills,
      failoversMs,
      deployments: rows.length,
      mixed,
      missingRows,
      events: { received: deploymentEvents().length, unique: first.size, duplicates: deploymentEvents().length - first.size, missing, unexpected },
      outOfOrder,
      lastEventAfterSyncsMs,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    for (const r of replicas) log(`--- ${r.name} output ---\n${r.output().slice(-3000)}`);
    throw err;
  } finally {
    for (const r of replicas) await r.stop().catch(() => undefined);
    await proxy.close();
    await consumer.close().catch(() => undefined);
    await amqp.queueDelete({ queue }).catch(() => undefined);
    await amqp.queueDelete({ queue: `${queue}.dlq` }).catch(() => undefined);
    await amqp.exchangeDelete({ exchange }).catch(() => undefined);
    await amqp.exchangeDelete({ exchange: `${exchange}.dlx` }).catch(() => undefined);
    await amqp.close().catch(() => undefined);
    await admin.end().catch(() => undefined);
    await git.close();
    await dropSchema(schema).catch(() => undefined);
  }
}
