/**
 * SQLite's migration runner. A database records the last version applied in PRAGMA user_version;
 * opening it applies the rest in order, each in its own transaction together with the version
 * bump, so a crash leaves the database at a whole version.
 */
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { foldForSearch } from '../../../src-shared/fold.js';
import { lookalikeSkeletons } from '../../../src-shared/text.js';
import { gramsOf, storedText } from '../search-grams.js';
import { LATEST_VERSION, migrations } from './index.js';
import { sqlFor } from './migration.js';

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration above the database's version, up to `target`. */
export function migrate(db: Database, target = LATEST_VERSION): void {
  // What migrations compute from names and text, as the application does.
  db.function('lanchat_fold', { deterministic: true }, (text) => foldForSearch(String(text)));
  db.function('lanchat_lookalike_skeletons', { deterministic: true }, (name) => JSON.stringify(lookalikeSkeletons(String(name))));
  // And what the triggers of migration 13 compute, for as long as the connection is open.
  db.function('lanchat_grams', { deterministic: true }, (folded) => JSON.stringify(gramsOf(storedText(folded as Uint8Array))));
  for (const migration of migrations) {
    if (migration.version <= schemaVersion(db) || migration.version > target) continue;
    db.transaction(() => {
      const sql = sqlFor(migration, 'sqlite');
      if (sql !== undefined) db.exec(sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
