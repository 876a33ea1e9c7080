/** Group invitations and membership lines. PostgreSQL: in 001. */
import type { Migration } from './migration.js';

export default {
  version: 8,
  name: '008-group-invitations',
  sqlite: `
      -- Adding someone to a group invites them. A pending invitation waits for their
      -- answer; a declined one (they declined, or later left the group) stays, so the
      -- owner cannot invite them to that group again.
      CREATE TABLE group_invitations (
        group_id INTEGER NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        inviter_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN ('pending', 'declined')),
        since INTEGER NOT NULL,
        PRIMARY KEY (group_id, user_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX group_invitations_by_user ON group_invitations (user_id);

      -- Membership lines ("alice invited bob") are messages of the group's conversation,
      -- so they keep their place among the messages in history and sync. This holds what
      -- happened as JSON (docs/PROTOCOL.md §6.4.1); NULL for the messages people write.
      -- Their folded text is empty: search never finds them.
      ALTER TABLE messages ADD COLUMN group_event TEXT;
    `,
} satisfies Migration;
