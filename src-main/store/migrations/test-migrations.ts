/**
 * The migration tests' helpers: a database of either engine at a given version, and its schema as
 * rows to compare (sqlite_schema; PostgreSQL's catalog).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import { testPostgres, uniqueDatabaseName } from '../pg/testing.js';
import { migrate as migratePostgres } from './postgres.js';
import { migrate as migrateSqlite } from './sqlite.js';

/** A new temporary folder for each test of the calling file; the returned function gives the current test's. */
export function eachTestFolder(): () => string {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lanchat-migration-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** A SQLite database in `file` at `version`. */
export function sqliteAt(file: string, version: number): Database.Database {
  const db = new Database(file);
  migrateSqlite(db, version);
  return db;
}

/** An account as every version's users table holds it, its name key and skeleton the name in lower case. */
export function addUser(db: Database.Database, name: string): void {
  const key = name.toLowerCase();
  db.prepare("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES (?, ?, ?, 'x', 0)").run(name, key, key);
}

/** An empty PostgreSQL database no store has opened. */
export async function freshPostgres(): Promise<string> {
  const name = uniqueDatabaseName('schema_test');
  const postgres = await testPostgres();
  await postgres.createDatabase(name);
  return postgres.url(name);
}

/** Runs `work` on a client of the database at `url`. */
export async function onPostgres<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A PostgreSQL database at `version`. */
export async function postgresAt(version: number): Promise<string> {
  const url = await freshPostgres();
  await onPostgres(url, (client) => migratePostgres(client, 'the test database', version));
  return url;
}

/** The SQL of a database as c974e6d's store left it (fixtures/). */
export function fixture(engine: 'sqlite' | 'postgres'): string {
  return readFileSync(join(import.meta.dirname, 'fixtures', `c974e6d.${engine}.sql`), 'utf8');
}

export function sqliteSchema(db: Database.Database): unknown {
  return {
    objects: db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name').all(),
    version: db.pragma('user_version', { simple: true }),
    applicationId: db.pragma('application_id', { simple: true }),
  };
}

export async function postgresSchema(url: string): Promise<unknown> {
  const queries = {
    columns: `SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name, is_identity, identity_generation
      FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2`,
    indexes: 'SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1',
    constraints: `SELECT conrelid::regclass::text AS of, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2`,
    triggers: 'SELECT tgrelid::regclass::text AS of, tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2',
    functions: 'SELECT proname, prosrc FROM pg_proc WHERE pronamespace = current_schema()::regnamespace ORDER BY 1, 2',
    sequences: 'SELECT sequencename, data_type, increment_by FROM pg_sequences WHERE schemaname = current_schema() ORDER BY 1',
    version: 'SELECT version FROM schema_version',
  };
  return onPostgres(url, async (client) => {
    const schema: Record<string, unknown[]> = {};
    for (const [name, text] of Object.entries(queries)) schema[name] = (await client.query(text)).rows;
    return schema;
  });
}
