/** A message is its own entry in the event log: messages and log entries share one id sequence. */
import type { Migration } from './migration.js';

export default {
  version: 14,
  name: '014-messages-are-their-log-entries',
  sqlite: `
      -- A message stored from now on is its own 'message' entry in the event log (docs/PROTOCOL.md
      -- §17.8): its id is its event id, read through messages_by_conv, so storing one writes no
      -- conv_events row (a fifth of an insert's cost, docs/BENCHMARKS.md "Ingest (ingest18)").
      -- Messages and log entries therefore draw ids from one sequence, the messages' AUTOINCREMENT
      -- counter: a log entry takes the counter's next id (conversation.ts) and this trigger moves the
      -- counter to it, so no later message or entry takes a lower id. conv_events keeps the entries of
      -- messages stored before this version, whose event ids are not their ids.
      INSERT INTO sqlite_sequence (name, seq) SELECT 'messages', 0
        WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages');
      UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence WHERE name IN ('messages', 'conv_events'))
        WHERE name = 'messages';
      -- Messages with ids from logged_from on are their own log entries; older ones have theirs in conv_events.
      CREATE TABLE message_log_state (logged_from INTEGER NOT NULL) STRICT;
      INSERT INTO message_log_state (logged_from) SELECT seq + 1 FROM sqlite_sequence WHERE name = 'messages';
      CREATE TRIGGER conv_events_share_ids AFTER INSERT ON conv_events BEGIN
        UPDATE sqlite_sequence SET seq = new.id WHERE name = 'messages' AND seq < new.id;
      END;

      -- A deleted group's messages no longer all have log entries to find their reactions and mentions
      -- by: the trigger reads them from the messages, so deleteGroup deletes the group before them.
      DROP TRIGGER chat_groups_forget_changes;
      CREATE TRIGGER chat_groups_forget_changes AFTER DELETE ON chat_groups BEGIN
        DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE conv = 'group:' || old.id);
        DELETE FROM mentions WHERE message_id IN (SELECT id FROM messages WHERE conv = 'group:' || old.id);
        DELETE FROM conv_events WHERE conv = 'group:' || old.id;
        DELETE FROM read_cursors WHERE conv = 'group:' || old.id;
      END;
    `,
  postgres: `
      -- As above: one sequence, the messages', both under the log lock, so ids still increase in
      -- commit order. It starts above every id either handed out.
      SELECT setval('messages_id_seq', greatest(m.last, e.last, 1), greatest(m.last, e.last) > 0)
      FROM (SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS last FROM messages_id_seq) AS m,
        (SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS last FROM conv_events_id_seq) AS e;
      ALTER TABLE conv_events ALTER COLUMN id SET DEFAULT nextval('messages_id_seq');
      DROP SEQUENCE conv_events_id_seq;
      -- Messages with ids from logged_from on are their own log entries. No row when no id was ever
      -- handed out (every message is its own entry): readers take 1 then.
      CREATE TABLE message_log_state (logged_from bigint NOT NULL);
      INSERT INTO message_log_state (logged_from)
        SELECT last_value + 1 FROM messages_id_seq WHERE is_called;
    `,
} satisfies Migration;
