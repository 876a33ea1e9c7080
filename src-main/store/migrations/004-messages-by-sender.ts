/** An index for searching one person's messages. PostgreSQL: in 001. */
import type { Migration } from './migration.js';

export default {
  version: 4,
  name: '004-messages-by-sender',
  sqlite: `
      -- Search with a person walks that person's messages newest first, a slice of
      -- ids at a time (see search.ts): this index gives each slice by a range seek.
      CREATE INDEX messages_by_sender ON messages (sender_id, id);
    `,
} satisfies Migration;
