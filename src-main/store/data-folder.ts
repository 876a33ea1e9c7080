/**
 * A host's data folder: private to its owner (0700) at every start, and held by
 * one host at a time. The hold is an exclusive SQLite lock on host.lock, kept
 * until release(): an operating-system lock, so a host that crashes or is killed
 * lets go of it at once and there is no stale lock file to clean up.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

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
