/** SQLite keeps a text that folds to itself once, not twice; its search triggers follow the text searched. */
import type { Migration } from './migration.js';

export default {
  version: 17,
  name: '017-text-folded-once',
  sqlite: `
      -- A text that folds to itself keeps '' as its folded text and is searched as it is (searched-text.ts),
      -- so it is stored once, not twice; a membership line, whose folded text is '' too, has a group_event.
      -- The triggers that followed messages.folded follow the text searched instead; rows stored before
      -- keep their copy.
      DROP TRIGGER message_grams_refold;
      DROP TRIGGER message_grams_forget;
      DROP TRIGGER message_search_refold;
      DROP TRIGGER message_search_forget;
      CREATE TRIGGER message_grams_refold AFTER UPDATE OF text, folded ON messages BEGIN
        INSERT OR IGNORE INTO message_grams (gram, block)
          SELECT value, new.id / 1024 FROM json_each(lanchat_grams(CAST(
            (CASE WHEN new.folded = '' AND new.group_event IS NULL THEN new.text ELSE new.folded END) AS BLOB)));
        INSERT INTO message_grams_stale (block, changes) SELECT old.id / 1024, 1
          WHERE (CASE WHEN old.folded = '' AND old.group_event IS NULL THEN old.text ELSE old.folded END) <> ''
          ON CONFLICT (block) DO UPDATE SET changes = changes + 1;
      END;
      CREATE TRIGGER message_grams_forget AFTER DELETE ON messages
        WHEN (CASE WHEN old.folded = '' AND old.group_event IS NULL THEN old.text ELSE old.folded END) <> '' BEGIN
        INSERT INTO message_grams_stale (block, changes) VALUES (old.id / 1024, 1)
          ON CONFLICT (block) DO UPDATE SET changes = changes + 1;
      END;
      CREATE TRIGGER message_search_refold AFTER UPDATE OF text, folded ON messages
        WHEN (CASE WHEN old.folded = '' AND old.group_event IS NULL THEN old.text ELSE old.folded END)
          IS NOT (CASE WHEN new.folded = '' AND new.group_event IS NULL THEN new.text ELSE new.folded END) BEGIN
        INSERT INTO message_search_changed (message_id) VALUES (new.id);
      END;
      CREATE TRIGGER message_search_forget AFTER DELETE ON messages
        WHEN (CASE WHEN old.folded = '' AND old.group_event IS NULL THEN old.text ELSE old.folded END) <> '' BEGIN
        INSERT INTO message_search_changed (message_id) VALUES (old.id);
      END;
    `,
} satisfies Migration;
