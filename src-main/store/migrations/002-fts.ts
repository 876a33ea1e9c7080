/** SQLite's trigram index over the messages' folded text (015 moved it to a file of its own). */
import type { Migration } from './migration.js';

export default {
  version: 2,
  name: '002-fts',
  sqlite: `
      -- Substring search over messages.folded. The text is folded before it gets
      -- here, so the tokenizer need not fold case again (case_sensitive 1).
      -- detail = none keeps only which messages hold each trigram, not where:
      -- a third of the size and cost of a full index. A query therefore asks for
      -- all of its trigrams and confirms the substring with instr(); see store.ts.
      -- No triggers keep this in step with messages: FTS5 flushes its pending
      -- changes at every statement savepoint, so per-row triggers made inserts
      -- several times slower and deleting a group's messages twice as slow.
      -- The store indexes each batch of inserted messages with one statement and
      -- unindexes a group's messages with one statement before deleting them.
      CREATE VIRTUAL TABLE message_search USING fts5 (
        folded,
        content = 'messages',
        content_rowid = 'id',
        tokenize = 'trigram case_sensitive 1',
        detail = none,
        columnsize = 0
      );
      INSERT INTO message_search (message_search) VALUES ('rebuild');
    `,
} satisfies Migration;
