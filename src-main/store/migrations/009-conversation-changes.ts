/** Replies, edits, deletes, reactions, mentions, read positions and the event log. PostgreSQL: in 001. */
import type { Migration } from './migration.js';

export default {
  version: 9,
  name: '009-conversation-changes',
  sqlite: `
      -- Conversation changes (protocol 1.1, docs/PROTOCOL.md §17). A reply's quote is read from
      -- its original each time (never copied), so deleting the original removes it everywhere.
      ALTER TABLE messages ADD COLUMN reply_to INTEGER;
      ALTER TABLE messages ADD COLUMN edited_at INTEGER;
      ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
      -- The message's newest edit, delete or reaction event, which replaces the one before
      -- (each carries the whole message as it is then): the log keeps one change per message.
      ALTER TABLE messages ADD COLUMN change_event INTEGER;

      -- Search follows edits and deletes (external content: 'delete' needs the old form).
      -- On UPDATE only: insert triggers would slow every send (see migrations 001, 002).
      CREATE TRIGGER messages_refold AFTER UPDATE OF folded ON messages BEGIN
        INSERT INTO message_search (message_search, rowid, folded) SELECT 'delete', old.id, old.folded WHERE old.folded <> '';
        INSERT INTO message_search (rowid, folded) SELECT new.id, new.folded WHERE new.folded <> '';
      END;

      -- The event log: what happened in each conversation, in one order across the server.
      -- message_id for message, edit, delete and reaction; user_id and up_to for read;
      -- user_id for member (kept for membership changes). Messages from before this
      -- version have no entry: clients sync those by message id.
      CREATE TABLE conv_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conv TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'edit', 'delete', 'reaction', 'read', 'member')),
        message_id INTEGER,
        user_id INTEGER,
        up_to INTEGER
      ) STRICT;
      CREATE INDEX conv_events_by_conv ON conv_events (conv, id);

      -- id orders a message's reactions as they were made.
      CREATE TABLE reactions (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users (id),
        emoji TEXT NOT NULL,
        UNIQUE (message_id, user_id, emoji)
      ) STRICT;

      -- Who a message mentions; conv lets unread mentions be counted per conversation.
      CREATE TABLE mentions (
        user_id INTEGER NOT NULL,
        conv TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, conv, message_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX mentions_by_message ON mentions (message_id);

      -- Each user's read position per conversation, with its newest read event (replaced by the next).
      CREATE TABLE read_cursors (
        user_id INTEGER NOT NULL,
        conv TEXT NOT NULL,
        up_to INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, conv)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX read_cursors_by_conv ON read_cursors (conv);

      ALTER TABLE users ADD COLUMN send_read_receipts INTEGER NOT NULL DEFAULT 1;

      -- A deleted group takes its log, reactions, mentions and read positions along (deleteGroup
      -- removes its messages first; the log's message entries still name them).
      CREATE TRIGGER chat_groups_forget_changes AFTER DELETE ON chat_groups BEGIN
        DELETE FROM reactions WHERE message_id IN
          (SELECT message_id FROM conv_events WHERE conv = 'group:' || old.id AND kind = 'message');
        DELETE FROM mentions WHERE message_id IN
          (SELECT message_id FROM conv_events WHERE conv = 'group:' || old.id AND kind = 'message');
        DELETE FROM conv_events WHERE conv = 'group:' || old.id;
        DELETE FROM read_cursors WHERE conv = 'group:' || old.id;
      END;
    `,
} satisfies Migration;
