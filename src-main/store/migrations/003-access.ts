/** Approval mode, bans and the room's settings. PostgreSQL: in 001. */
import type { Migration } from './migration.js';

export default {
  version: 3,
  name: '003-access',
  sqlite: `
      -- Accounts registered in approval mode wait as 'pending' until the host approves them.
      ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending'));

      -- Names are stored as name keys, addresses as the server sees them.
      CREATE TABLE bans (
        kind TEXT NOT NULL CHECK (kind IN ('name', 'address')),
        value TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (kind, value)
      ) STRICT, WITHOUT ROWID;

      -- The host's room settings that outlive a restart (access mode, passphrase hash).
      CREATE TABLE room_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
} satisfies Migration;
