import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ResolvedSettings } from '../config/load.js';
import type { SecretBox } from '../security/secret-box.js';
import type { Resolver } from '../security/url-guard.js';
import type { DatabaseHandle } from '../store/db.js';
import type { EventHub } from '../events/hub.js';
import type { OutboxRelay } from '../events/relay.js';
import type { ReplicaRegistry } from '../cluster/registry.js';
import type { JobQueue } from '../jobs/queue.js';

/** Everything routes need, built once by the entry point (or a test) and shared. */
export interface AppContext {
  settings: ResolvedSettings;
  db: DatabaseHandle;
  box: SecretBox;
  events: EventHub;
  /** The outbox relay, when this process runs one (`syncline serve`). */
  relay?: OutboxRelay;
  /** This process in the replica registry, when it serves (`syncline serve`). */
  cluster?: ReplicaRegistry;
  /** DNS resolver for the outbound URL guard; the system resolver when absent (tests inject one). */
  resolver?: Resolver;
  /** Background jobs (webhook work, polling, reports); workers run only once `jobs.start()` is called. */
  jobs: JobQueue;
}

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
  }
}

export const contextPlugin = fp(
  async (app: FastifyInstance, ctx: AppContext) => {
    app.decorate('ctx', ctx);
  },
  { name: 'syncline-context' },
);
