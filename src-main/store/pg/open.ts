/** Opening the PostgreSQL store: the pool, the schema brought up to date, refusing what is not ours. */
import pg from 'pg';
import { StoreOpenError } from '../open.js';
import type { AsyncStore } from '../types.js';
import { migrate } from '../migrations/postgres.js';
import { pgStore, type PgStoreOptions } from './store.js';

export type { PgStoreOptions } from './store.js';

const INT8 = 20;

/**
 * Ids and times are bigint columns, which node-postgres reads as strings; every value the store
 * keeps there is below 2^53 (ids count up from 1, times are milliseconds), so they are read as numbers.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Connects to the database at `url` (postgres://...) and brings its schema up to date. */
export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<AsyncStore> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, types });
  // An idle connection the server dropped must not take the process down with it; nor one in use
  // (a transaction's, a search's), which emits the error besides failing the statement it runs.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    try {
      await migrate(client, withoutPassword(url));
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(`cannot open the PostgreSQL database at ${withoutPassword(url)}: ${(error as Error).message}`, { cause: error });
  }
  return pgStore(pool, options);
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the given URL';
  }
}
