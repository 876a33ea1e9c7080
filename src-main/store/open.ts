/**
 * Opening the database file: pragmas, ownership, migrations. The features
 * (users.ts, messages.ts, ...) prepare their statements on what this returns.
 *
 * No integrity check runs here: PRAGMA quick_check reads the whole file, which
 * takes seconds on a large history. A damaged header or schema is still caught
 * here; damage deeper in the file surfaces as an error from the call that meets it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import type { IndexerHealth } from './search-index.js';
import { keepPrivate } from './data-folder.js';
import { LATEST_VERSION } from './migrations/index.js';
import { APPLICATION_ID } from './migrations/migration.js';
import { migrate, schemaVersion } from './migrations/sqlite.js';

/** The database file cannot be used: not a database, damaged, from a newer version, or unreadable. */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

export interface StoreOptions {
  /** Caps the database file (a quota); a write beyond it fails with SQLITE_FULL, as on a full disk. */
  maxBytes?: number;
  /** Caps the bytes of message text (UTF-8) one user may store per UTC day; no cap when absent. */
  maxUserBytesPerDay?: number;
  /** How long opening waits for another program's write lock before giving up (tests shorten it). */
  openLockWaitMs?: number;
  /** Hears when the search index's batches begin to fail and when they succeed again (the host logs it). */
  onIndexHealth?: (health: IndexerHealth) => void;
  /**
   * Starts a search thread at the opening instead of at the first search, which then answers at once:
   * a thread's start (seconds from TypeScript sources) is no longer the first searcher's wait. For a
   * host that runs for long; a store opened for a moment, as in tests, need not.
   */
  searchThreadAtOpening?: boolean;
}

/**
 * Opens (creating if needed) the database in `file` and brings its schema up to date;
 * `beforeMigrating` reads it as it was found (search-index.ts: what its index file was built from).
 */
export function openDatabase(file: string, options: StoreOptions = {}, beforeMigrating?: (db: Database.Database) => void): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  keepPrivate(file);
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw openError(file, error);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // A deleted message's text is overwritten in the file, not left in free space (docs/PROTOCOL.md §17).
    db.pragma('secure_delete = ON');
    db.pragma(`busy_timeout = ${options.openLockWaitMs ?? 2000}`);
    // Checkpoints (WAL copied into the database, with an fsync) every 64 MB of log
    // instead of every 4 MB: a busy host spends far fewer of its commits waiting on them.
    db.pragma('wal_autocheckpoint = 16384');
    // 16 MB of page cache instead of SQLite's 2 MB: a write touches an index leaf per conversation and
    // sender, which on a large history no longer fit in 2 MB (docs/BENCHMARKS.md, "Ingest (ingest17)":
    // +16 to 26 % inserts per CPU second at 1,000,000 messages). It fills only as the file grows.
    db.pragma('cache_size = -16384');
    checkOwnership(db, file);
    beforeMigrating?.(db);
    migrate(db);
    // Fails now, with a clear reason, rather than at the first message, if another program holds the write lock.
    db.exec('BEGIN IMMEDIATE; COMMIT');
    db.pragma('busy_timeout = 5000');
    if (options.maxBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
    }
    return db;
  } catch (error) {
    db.close();
    throw openError(file, error);
  }
}

/** Refuses other applications' databases and databases written by a newer LanChat. */
function checkOwnership(db: Database.Database, file: string): void {
  const version = schemaVersion(db);
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const empty = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() === 0;
  if (version === 0 && applicationId === 0 && empty) return;
  if (applicationId !== APPLICATION_ID) {
    throw new StoreOpenError(`"${file}" is a database of another application, not a LanChat database`);
  }
  if (version > LATEST_VERSION) {
    throw new StoreOpenError(
      `"${file}" was written by a newer version of LanChat (schema ${version}; this version knows up to ${LATEST_VERSION}). ` +
        'Update LanChat to open it.',
    );
  }
}

function openError(file: string, error: unknown): Error {
  if (error instanceof StoreOpenError) return error;
  if (!(error instanceof Database.SqliteError)) return error instanceof Error ? error : new Error(String(error));
  const damaged = error.code === 'SQLITE_NOTADB' || error.code.startsWith('SQLITE_CORRUPT');
  const locked = error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED');
  const message = damaged
    ? `"${file}" is not a LanChat database or is damaged: ${error.message}`
    : locked
      ? `the database "${file}" is locked by another program (is another LanChat host using this folder?): ${error.message}`
      : `cannot open the database "${file}": ${error.message}`;
  return new StoreOpenError(message, { cause: error });
}
