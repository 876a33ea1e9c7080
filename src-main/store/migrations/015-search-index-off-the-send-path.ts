/** SQLite's trigram index moves to a file the indexer thread writes (search-index.ts). */
import type { Migration } from './migration.js';

export default {
  version: 15,
  name: '015-search-index-off-the-send-path',
  sqlite: `
      -- The trigram index moves to its own file, written by the indexer thread (search-index.ts):
      -- it was two thirds of a lone message's commit, and its merges held edits and sends for
      -- 30-50 ms on a large history. The indexer builds the new one from the messages.
      DROP TRIGGER messages_refold;
      DROP TABLE message_search;

      -- The messages whose text to find changed (an edit, a delete) or that went (with their
      -- group), for the indexer to index again or drop; the store forgets the entries the index
      -- has applied when it opens. AUTOINCREMENT: an entry's seq is never reused.
      CREATE TABLE message_search_changed (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id INTEGER NOT NULL
      ) STRICT;
      CREATE TRIGGER message_search_refold AFTER UPDATE OF folded ON messages WHEN old.folded IS NOT new.folded BEGIN
        INSERT INTO message_search_changed (message_id) VALUES (new.id);
      END;
      CREATE TRIGGER message_search_forget AFTER DELETE ON messages WHEN old.folded <> '' BEGIN
        INSERT INTO message_search_changed (message_id) VALUES (old.id);
      END;

      -- Names this database to its index file: an index built from another database is rebuilt.
      CREATE TABLE search_index_key (key TEXT NOT NULL) STRICT;
      INSERT INTO search_index_key VALUES (lower(hex(randomblob(16))));
    `,
} satisfies Migration;
