/**
 * Soak: the RabbitMQ broker unreachable for 60 s while 100 deployments happen.
 * Expectation: every deployment's event arrives once the broker is back, in order, and publishing
 * resumes within 5 s of its return. Prints the figures as JSON.
 *
 *   npm run soak                     # outage played by a TCP proxy in front of 127.0.0.1:5672
 *   SOAK_BROKER=rabbitmqctl npm run soak   # real `rabbitmqctl stop_app` / `start_app` (stops the
 *                                          # shared broker: do not run while others use it)
 *   SOAK_DATABASE=postgres …         # on PostgreSQL (default SQLite)
 *   SOAK_OUTAGE_SECONDS=60 SOAK_DEPLOYMENTS=100
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { createRelay } from '../src/events/relay.js';
import { makeTestApp } from '../test/helpers/app.js';
import { cleanupTempDirs, commitFiles, makeRepo, serveGitHttp, tempDir } from '../test/helpers/git-fixtures.js';
import { startTcpProxy } from '../test/helpers/tcp-proxy.js';

const OUTAGE_S = Number(process.env.SOAK_OUTAGE_SECONDS ?? 60);
const N = Number(process.env.SOAK_DEPLOYMENTS ?? 100);
const REAL = process.env.SOAK_BROKER === 'rabbitmqctl';
const dialect = process.env.SOAK_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

const kind = { schema: { type: 'object', properties: { port: { type: 'integer' } }, additionalProperties: false } };

async function main(): Promise<void> {
  const run = crypto.randomBytes(4).toString('hex');
  const exchange = `syncline.soak.${run}`;
  const queue = `${exchange}.v1`;
  const proxy = REAL ? null : await startTcpProxy({ host: '127.0.0.1', port: 5672 });
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${proxy ? proxy.port : 5672}`;
  const t = await makeTestApp(dialect, { settings: { allowed_hosts: ['127.0.0.1'], log_level: 'silent' } });
  const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: t.auth(), ...(payload ? { payload } : {}) });
  const root = await tempDir('syncline-soak-');
  const repo = await makeRepo({ root, name: 'shop' });
  const doc = (i: number) => `kind: Workload\nname: api\nspec:\n  port: ${1000 + i}\n`;
  await commitFiles(repo, { 'prod/api.yaml': doc(0) });
  const git = await serveGitHttp(root);
  await inject('PUT', '/kinds/Workload', kind);
  await inject('POST', '/sources', { name: 'shop', url: git.repoUrl('shop') });
  for (const ns of ['shop.a', 'shop.b']) await inject('PUT', `/namespaces/${ns}`, { source: 'shop', branch: 'main', path: 'prod' });

  const relay = createRelay({ ...t.ctx, settings: { ...t.settings, amqp_url: amqpUrl, amqp_exchange: exchange, amqp_queue: queue } }, { info: () => undefined, warn: () => undefined });
  t.ctx.relay = relay;
  relay.start();
  const direct = new Connection('amqp://guest:guest@127.0.0.1:5672');
  // Declare the queue as the relay will, so the consumer can attach before the first publish.
  await direct.exchangeDeclare({ exchange, type: 'topic', durable: true });
  await direct.exchangeDeclare({ exchange: `${exchange}.dlx`, type: 'topic', durable: true });
  await direct.queueDeclare({ queue, durable: true, arguments: { 'x-dead-letter-exchange': `${exchange}.dlx` } });
  await direct.queueBind({ exchange, queue, routingKey: '#' });
  const received: { id: string; type: string; ns: string; dep: string; at: number }[] = [];
  let consumer = direct.createConsumer({ queue, queueOptions: { passive: true } }, async (msg) => {
    const e = JSON.parse(Buffer.from(msg.body as Buffer).toString());
    received.push({ id: e.id, type: e.type, ns: e.subject, dep: e.data?.id, at: Date.now() });
  });

  const deployments: { ns: string; id: string }[] = [];
  let downAt = 0;
  let upAt = 0;
  const outageStart = Math.floor(N / 5);
  const syncStarted = Date.now();
  for (let i = 1; i <= N; i++) {
    if (i === outageStart) {
      downAt = Date.now();
      if (proxy) await proxy.down();
      else {
        await consumer.close();
        execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore' });
      }
    }
    await commitFiles(repo, { 'prod/api.yaml': doc(i) });
    const ns = i % 2 ? 'shop.a' : 'shop.b';
    const res = await inject('POST', `/namespaces/${ns}/sync-from-git`, {});
    if (res.statusCode !== 200) throw new Error(`sync ${i}: ${res.statusCode} ${res.body}`);
    deployments.push({ ns, id: res.json().id });
  }
  const syncSeconds = (Date.now() - syncStarted) / 1000;
  const pendingDuringOutage = Number((await t.ctx.db.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).where('published_at', 'is', null).executeTakeFirst())?.n);
  const health = (await t.app.inject({ url: '/healthz' })).json();
  const ready = (await t.app.inject({ url: '/readyz' })).statusCode;
  const wait = downAt + OUTAGE_S * 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  upAt = Date.now();
  if (proxy) await proxy.up();
  else {
    execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
    execFileSync('rabbitmqctl', ['await_startup'], { stdio: 'ignore' });
    consumer = direct.createConsumer({ queue, queueOptions: { passive: true } }, async (msg) => {
      const e = JSON.parse(Buffer.from(msg.body as Buffer).toString());
      received.push({ id: e.id, type: e.type, ns: e.subject, dep: e.data?.id, at: Date.now() });
    });
  }
  const wanted = new Set(deployments.map((d) => d.id));
  const deadline = Date.now() + 120_000;
  const seenDeps = () => new Set(received.filter((r) => r.type.startsWith('syncline.deployment.')).map((r) => r.dep));
  while ([...wanted].some((id) => !seenDeps().has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const afterUp = received.filter((r) => r.at >= upAt);
  const firstAfterUp = afterUp.length ? (afterUp[0]!.at - upAt) / 1000 : null;
  const allIn = afterUp.length ? (afterUp.at(-1)!.at - upAt) / 1000 : null;
  const orderOk = ['shop.a', 'shop.b'].every((ns) => {
    const sent = deployments.filter((d) => d.ns === ns).map((d) => d.id);
    const got = [...new Map(received.filter((r) => r.ns === ns && r.type.startsWith('syncline.deployment.')).map((r) => [r.dep, r])).keys()];
    return JSON.stringify(sent) === JSON.stringify(got);
  });
  const figures = {
    scenario: REAL ? 'rabbitmqctl stop_app/start_app' : 'broker unreachable (TCP proxy down)',
    database: dialect,
    deployments: N,
    outage_seconds: (upAt - downAt) / 1000,
    sync_seconds_total: syncSeconds,
    pending_in_outbox_during_outage: pendingDuringOutage,
    healthz_during_outage: health.details?.events?.state,
    readyz_during_outage: ready,
    deployment_events_received: seenDeps().size,
    missing: [...wanted].filter((id) => !seenDeps().has(id)).length,
    duplicates: received.length - new Set(received.map((r) => r.id)).size,
    per_namespace_order_kept: orderOk,
    first_event_after_return_s: firstAfterUp,
    all_events_after_return_s: allIn,
  };
  console.log(JSON.stringify(figures, null, 2));
  await consumer.close();
  await relay.stop();
  await direct.queueDelete({ queue }).catch(() => undefined);
  await direct.exchangeDelete({ exchange }).catch(() => undefined);
  await direct.exchangeDelete({ exchange: `${exchange}.dlx` }).catch(() => undefined);
  await direct.close();
  await proxy?.close();
  await git.close();
  await t.close();
  await cleanupTempDirs();
  if (figures.missing > 0 || !orderOk) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
