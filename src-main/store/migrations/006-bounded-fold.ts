/** Messages refolded after foldForSearch changed (U+FDFA); SQLite's search index alone. */
import type { Migration } from './migration.js';

export default {
  version: 6,
  name: '006-bounded-fold',
  sqlite: `
      -- foldForSearch now keeps a character that stands for more than itself (U+FDFA
      -- stood for 18 letters): refold the messages whose stored form differs, and
      -- swap their entries in the search index (external content: the old form is
      -- what 'delete' must be given).
      CREATE TEMP TABLE refold AS
        WITH folds AS MATERIALIZED (SELECT id, folded AS old, lanchat_fold(text) AS new FROM messages)
        SELECT id, old, new FROM folds WHERE old <> new;
      INSERT INTO message_search (message_search, rowid, folded) SELECT 'delete', id, old FROM refold;
      UPDATE messages SET folded = (SELECT new FROM refold WHERE refold.id = messages.id) WHERE id IN (SELECT id FROM refold);
      INSERT INTO message_search (rowid, folded) SELECT id, new FROM refold;
      DROP TABLE refold;
    `,
} satisfies Migration;
