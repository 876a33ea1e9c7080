/**
 * PostgreSQL's migration runner. schema_version records the last version applied; opening applies
 * the rest, all in one transaction, under an advisory lock so that nodes starting together migrate once.
 */
import type pg from 'pg';
import { StoreOpenError } from '../open.js';
import { LATEST_VERSION, migrations } from './index.js';
import { sqlFor } from './migration.js';

/** Taken while migrating, so that nodes starting together migrate once ("LNCM"). */
const MIGRATE_LOCK = 0x4c4e434d;
/** PostgreSQL's first migration (001) makes the tables SQLite has at 13, so it is never below 13. */
const FIRST = 13;
/**
 * Before the engines shared one list (up to c974e6d) PostgreSQL counted its own versions: its 1
 * was 001, 2 was 014 and 3 was 016 (17 is SQLite's alone). Being never below 13 since, 1 to 3 are those.
 */
const OWN_COUNT = [0, 13, 14, 17];

/** Brings the schema of the database (`where` names it to the user) up to `target`, refusing what is not ours. */
export async function migrate(client: pg.ClientBase, where: string, target = LATEST_VERSION): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    const tables = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()`,
    );
    const names = new Set(tables.rows.map((row) => row.name));
    if (names.size > 0 && !names.has('schema_version')) {
      throw new StoreOpenError(`the PostgreSQL database at ${where} holds another application's tables, not LanChat's`);
    }
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const recorded = (await client.query<{ version: number }>('SELECT coalesce(max(version), 0) AS version FROM schema_version')).rows[0]!.version;
    const version = OWN_COUNT[recorded] ?? recorded;
    if (version > LATEST_VERSION) {
      throw new StoreOpenError(
        `the PostgreSQL database at ${where} was written by a newer version of LanChat (schema ${version}; ` +
          `this version knows up to ${LATEST_VERSION}). Update LanChat to open it.`,
      );
    }
    for (const migration of migrations) {
      const sql = sqlFor(migration, 'postgres');
      if (migration.version > version && migration.version <= target && sql !== undefined) await client.query(sql);
    }
    await client.query('DELETE FROM schema_version');
    await client.query('INSERT INTO schema_version (version) VALUES ($1)', [Math.max(version, target, FIRST)]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
