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

/**
 * Connection settings for a URL, on `schema` when given. pg lets a URL's own `options` parameter
 * replace the config's, so with a schema the URL's options (e.g. `-c statement_timeout=5000`)
 * are taken out of it and joined with the schema's search_path rather than dropping it.
 */
export function pgConnection(url: string, schema?: string): { connectionString: string; options?: string } {
  if (!schema) return { connectionString: url };
  const searchPath = `-c search_path="${schema}"`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, options: searchPath };
  }
  const urlOptions = parsed.searchParams.get('options');
  if (!urlOptions) return { connectionString: url, options: searchPath };
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), options: `${urlOptions} ${searchPath}` };
}
