/**
 * A host's data folder: private to its owner (0700) at every start, and held by
 * one host at a time. The hold is an exclusive SQLite lock on host.lock, kept
 * until release(): an operating-system lock, so a host that crashes or is killed
 * lets go of it at once and there is no stale lock file to clean up.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';

export interface DataFolder {
  release(): void;
}

export class DataFolderBusyError extends Error {
  override name = 'DataFolderBusyError';
}

export function holdDataFolder(dir: string): DataFolder {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = join(dir, 'host.lock');
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  const lock = new Database(file, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    lock.close();
    if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')) {
      throw new DataFolderBusyError(
        `the data folder "${dir}" is in use by another LanChat host; stop that one first or choose another folder`,
        { cause: error },
      );
    }
    throw error;
  }
  return { release: () => lock.close() };
}

/**
 * Makes the database (or the search index's file) and what SQLite keeps beside it readable by the owner only:
 * SQLite gives the -wal and -shm files it creates the database file's mode, so
 * the file is created 0600 before SQLite opens it, and files left from an
 * earlier run with looser modes are tightened.
 */
export function keepPrivate(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(path, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
