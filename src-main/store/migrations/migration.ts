/**
 * One version of the schema, for both engines (the list is index.ts). Where the SQL is the same it
 * is `sql`; where it must differ each engine has its own (`sqlite`, `postgres`). An engine with
 * neither has nothing to do at that version, and its database still records the version.
 * Never edit a released migration: add a new one.
 */
export interface Migration {
  version: number;
  /** `NNN-what-it-does`, the file's name. */
  name: string;
  sql?: string;
  sqlite?: string;
  postgres?: string;
}

export type Engine = 'sqlite' | 'postgres';

/** What `engine` runs at this version, if anything. */
export function sqlFor(migration: Migration, engine: Engine): string | undefined {
  return migration[engine] ?? migration.sql;
}

/** PRAGMA application_id of every LanChat SQLite database ("LNCH"), set by the first migration. */
export const APPLICATION_ID = 0x4c4e4348;
