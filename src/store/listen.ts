import type pg from 'pg';
import { loadPg, pgConnection } from './pg-driver.js';

/**
 * PostgreSQL LISTEN on a connection of its own, per schema (`<channel>_<schema>`, the name
 * `pg_notify(channel || '_' || current_schema())` sends to). The connection is re-opened after
 * a loss (database restart, network); `onNotify` is also called after every (re)connect, since
 * notifications sent while disconnected are lost and the caller must look for itself.
 */
export function listenChannel(
  opts: { url: string; schema?: string | undefined },
  channel: string,
  onNotify: (payload: string) => void,
): () => Promise<void> {
  let client: pg.Client | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, 1000);
    timer.unref();
  };
  const connect = async () => {
    if (stopped) return;
    const pg = await loadPg();
    const c = new pg.Client(pgConnection(opts.url, opts.schema));
    client = c;
    c.on('error', () => {
      void c.end().catch(() => undefined);
      if (client === c) client = null;
      retry();
    });
    c.on('end', () => {
      if (client === c) client = null;
      retry();
    });
    c.on('notification', (n) => onNotify(n.payload ?? ''));
    try {
      await c.connect();
      const schema = (await c.query<{ s: string }>('select current_schema() as s')).rows[0]?.s ?? 'public';
      const name = `${channel}_${schema}`.slice(0, 63).replace(/"/g, '');
      await c.query(`listen "${name}"`);
      if (stopped) await c.end();
      else onNotify('');
    } catch {
      void c.end().catch(() => undefined);
      if (client === c) client = null;
      retry();
    }
  };
  void connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const c = client;
    client = null;
    await c?.end().catch(() => undefined);
  };
}
