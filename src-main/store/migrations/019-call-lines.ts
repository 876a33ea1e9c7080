/** Call lines (issue 39, docs/PROTOCOL.md §21.5): a message of a conversation saying what became of a call. */
import type { Migration } from './migration.js';

export default {
  version: 19,
  name: '019-call-lines',
  sql: `
      -- What became of the call, as JSON (ChatMessage.callEvent); NULL for the messages people write.
      -- Unlike a membership line a call line counts as unread, like a message from its sender.
      ALTER TABLE messages ADD COLUMN call_event TEXT;
    `,
} satisfies Migration;
