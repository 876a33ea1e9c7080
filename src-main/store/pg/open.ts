/** Opening the PostgreSQL store: the pool, the schema brought up to date, refusing what is not ours. */
import pg from 'pg';
import { StoreOpenError } from '../open.js';
import type { AsyncStore } from '../types.js';
import { PG_LATEST_VERSION, PG_MIGRATIONS } from './migrations.js';
import { pgStore, type PgStoreOptions } from './store.js';

export type { PgStoreOptions } from './store.js';

/** Taken while migrating, so that nodes starting together migrate once ("LNCM"). */
const MIGRATE_LOCK = 0x4c4e434d;
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
  // An idle connection the server dropped must not take the process down with it.
  pool.on('error', () => {});
  try {
    await migrate(pool, url);
  } catch (error) {
    await pool.end();
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(`cannot open the PostgreSQL database at ${withoutPassword(url)}: ${(error as Error).message}`, { cause: error });
  }
  return pgStore(pool, options);
}

async function migrate(pool: pg.Pool, url: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    const tables = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`,
    );
    const names = new Set(tables.rows.map((row) => row.name));
    if (names.size > 0 && !names.has('schema_version')) {
      throw new StoreOpenError(`the PostgreSQL database at ${withoutPassword(url)} holds another application's tables, not LanChat's`);
    }
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const version = (await client.query<{ version: number }>('SELECT coalesce(max(version), 0) AS version FROM schema_version')).rows[0]!.version;
    if (version > PG_LATEST_VERSION) {
      throw new StoreOpenError(
        `the PostgreSQL database at ${withoutPassword(url)} was written by a newer version of LanChat (schema ${version}; ` +
          `this version knows up to ${PG_LATEST_VERSION}). Update LanChat to open it.`,
      );
    }
    for (const migration of PG_MIGRATIONS) {
      if (migration.version <= version) continue;
      await client.query(migration.sql);
    }
    await client.query('DELETE FROM schema_version');
    await client.query('INSERT INTO schema_version (version) VALUES ($1)', [Math.max(version, PG_LATEST_VERSION)]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
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
