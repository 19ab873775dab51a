/**
 * Long-lived responses (SSE watch and event streams) belong to the token that opened them: when
 * that token is revoked they end within a second. Revocation through this process ends them at
 * once (`revoke`); a sweep once a second asks the database which of the tokens holding streams
 * still exist, so a revocation on another replica ends them too. Shutdown ends every stream.
 *
 * Routes call `app.streams.track(principal, end)` after opening a stream and the returned
 * function when it closes.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Database } from '../store/types.js';
import type { Principal } from './auth.js';

const SWEEP_MS = 1000;

export class StreamRegistry {
  readonly #byToken = new Map<string, Set<() => void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    /** Principal ids that are not rows in `tokens` (the root token, the CLI's local admin). */
    private readonly fixedIds: ReadonlySet<string>,
  ) {}

  /** Registers an open stream; returns the function to call when it closes. */
  track(principal: Pick<Principal, 'id'>, end: () => void): () => void {
    let set = this.#byToken.get(principal.id);
    if (!set) this.#byToken.set(principal.id, (set = new Set()));
    set.add(end);
    this.#schedule();
    return () => {
      set.delete(end);
      if (set.size === 0 && this.#byToken.get(principal.id) === set) this.#byToken.delete(principal.id);
    };
  }

  /** Ends every stream opened with this token. */
  revoke(tokenId: string): void {
    const set = this.#byToken.get(tokenId);
    if (!set) return;
    this.#byToken.delete(tokenId);
    for (const end of set) end();
  }

  /** Ends every stream (shutdown). */
  endAll(): void {
    for (const id of [...this.#byToken.keys()]) this.revoke(id);
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get open(): number {
    let n = 0;
    for (const set of this.#byToken.values()) n += set.size;
    return n;
  }

  /** One query for every token holding a stream; ends streams of tokens that are gone. */
  async sweep(): Promise<void> {
    const ids = [...this.#byToken.keys()].filter((id) => !this.fixedIds.has(id));
    if (ids.length === 0) return;
    const alive = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db.selectFrom('tokens').select('id').where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) alive.add(r.id);
    }
    for (const id of ids) if (!alive.has(id)) this.revoke(id);
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#byToken.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        return;
      }
      this.sweep().catch(() => undefined);
    }, SWEEP_MS);
    this.#timer.unref();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    streams: StreamRegistry;
  }
}

export const streamsPlugin = fp(
  async (app: FastifyInstance, opts: { fixedIds: string[] }) => {
    const registry = new StreamRegistry(app.ctx.db.db, new Set(opts.fixedIds));
    app.decorate('streams', registry);
    // Graceful shutdown waits for open connections: end the streams first (clients reconnect).
    app.addHook('preClose', async () => registry.endAll());
  },
  { name: 'syncline-streams', dependencies: ['syncline-context'] },
);
