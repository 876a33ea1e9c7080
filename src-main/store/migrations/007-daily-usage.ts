/** Bytes of text each user stored per day, for the daily quota. PostgreSQL: in 001. */
import type { Migration } from './migration.js';

export default {
  version: 7,
  name: '007-daily-usage',
  sqlite: `
      -- Bytes of message text (UTF-8) each user stored per UTC day (ts / 86400000),
      -- kept by the store as it inserts, for the per-user daily quota.
      CREATE TABLE daily_usage (
        user_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (user_id, day)
      ) STRICT, WITHOUT ROWID;
    `,
} satisfies Migration;
