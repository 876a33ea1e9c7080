/** An unfinished upload holds only the bytes that arrived, and is forgotten when idle. */
import type { Migration } from './migration.js';

export default {
  version: 16,
  name: '016-upload-reservations',
  sqlite: `
      -- An unfinished upload holds in the room's store only the bytes that arrived (received, as of
      -- active_at), and is forgotten once no bytes came for a while, not a day after it began.
      ALTER TABLE uploads ADD COLUMN received INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE uploads ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0;
      UPDATE uploads SET active_at = created_at;
      CREATE INDEX uploads_by_user ON uploads (user_id);
    `,
  postgres: `
      -- As above; uploads_by_user is in 001.
      ALTER TABLE uploads ADD COLUMN received bigint NOT NULL DEFAULT 0;
      ALTER TABLE uploads ADD COLUMN active_at bigint NOT NULL DEFAULT 0;
      UPDATE uploads SET active_at = created_at;
    `,
} satisfies Migration;
