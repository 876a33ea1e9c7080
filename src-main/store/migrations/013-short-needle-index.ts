/** SQLite's index of one- and two-character grams per block of messages (search-grams.ts). */
import type { Migration } from './migration.js';

export default {
  version: 13,
  name: '013-short-needle-index',
  sqlite: `
      -- Which one- and two-character grams of messages.folded occur in each block of 1024 message
      -- ids (block = id / 1024): searches for needles under three characters read only the blocks
      -- that hold them (search-grams.ts). It may list a gram a block no longer holds, never miss one.
      CREATE TABLE message_grams (
        gram TEXT NOT NULL,
        block INTEGER NOT NULL,
        PRIMARY KEY (gram, block)
      ) STRICT, WITHOUT ROWID;

      -- Messages with ids below unindexed_below are not in message_grams yet: searches read them
      -- all, and the store indexes them in the background, newest first, lowering the mark.
      CREATE TABLE message_grams_state (unindexed_below INTEGER NOT NULL) STRICT;
      INSERT INTO message_grams_state (unindexed_below) SELECT coalesce(max(id), 0) + 1 FROM messages;

      -- Blocks whose grams may have gone (an edit, a delete); changes counts them, so the store,
      -- recomputing a block in the background, sees when it changed meanwhile.
      CREATE TABLE message_grams_stale (
        block INTEGER PRIMARY KEY,
        changes INTEGER NOT NULL
      ) STRICT;

      -- The store adds an inserted message's grams itself (an insert trigger would slow every
      -- send, see migration 001); an edit's come from here, so no update path can miss one.
      -- lanchat_grams (migrate registers it) lists them as a JSON array; it is given the bytes,
      -- from which it reads the text exactly as stored (search-grams.ts storedText).
      CREATE TRIGGER message_grams_refold AFTER UPDATE OF folded ON messages BEGIN
        INSERT OR IGNORE INTO message_grams (gram, block)
          SELECT value, new.id / 1024 FROM json_each(lanchat_grams(CAST(new.folded AS BLOB)));
        INSERT INTO message_grams_stale (block, changes) SELECT old.id / 1024, 1 WHERE old.folded <> ''
          ON CONFLICT (block) DO UPDATE SET changes = changes + 1;
      END;
      CREATE TRIGGER message_grams_forget AFTER DELETE ON messages WHEN old.folded <> '' BEGIN
        INSERT INTO message_grams_stale (block, changes) VALUES (old.id / 1024, 1)
          ON CONFLICT (block) DO UPDATE SET changes = changes + 1;
      END;
    `,
} satisfies Migration;
