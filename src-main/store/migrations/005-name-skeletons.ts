/** Every look-alike skeleton of each account's name. PostgreSQL: in 001. */
import type { Migration } from './migration.js';

export default {
  version: 5,
  name: '005-name-skeletons',
  sqlite: `
      -- Every skeleton of each account's name (lookalikeSkeletons: as typed, in lower
      -- and in upper case): a new name is refused when any of its skeletons is here,
      -- whichever of two look-alike names came first. users.skeleton stays as the
      -- lower-case one. An older database's accounts get theirs from their names;
      -- of two old accounts that now look alike, the older keeps the skeleton.
      CREATE TABLE name_skeletons (
        skeleton TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX name_skeletons_by_user ON name_skeletons (user_id);
      INSERT OR IGNORE INTO name_skeletons (skeleton, user_id)
        SELECT skeletons.value, users.id FROM users, json_each(lanchat_lookalike_skeletons(users.name)) AS skeletons
        ORDER BY users.id;
    `,
} satisfies Migration;
