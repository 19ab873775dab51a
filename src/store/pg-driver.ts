import type pgModule from 'pg';

let loaded: Promise<typeof pgModule> | undefined;

/**
 * The `pg` driver, loaded on first use: SQLite (the default) never pays for it at start-up.
 * PostgreSQL returns bigint/bigserial as strings by default; our ids fit in a JS number.
 */
export function loadPg(): Promise<typeof pgModule> {
  loaded ??= import('pg').then(({ default: pg }) => {
    pg.types.setTypeParser(20, (v) => Number(v));
    return pg;
  });
  return loaded;
}
