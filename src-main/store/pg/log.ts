/**
 * The event log's reads on PostgreSQL (the changes that write it are ../conversation.ts's). A page is
 * one statement, so one snapshot, whose visible ids are a prefix (see store.ts on the log lock).
 */
import { LIMITS } from '../../../src-shared/protocol/limits.js';
import type { ReadState } from '../../../src-shared/protocol/objects.js';
import { LOGGED_FROM } from '../conversation.js';
import { type EventRow, messageIdsOf, toEventPage } from '../event-page.js';
import type { AsyncStore } from '../types.js';
import { CONVERSATIONS_OF, conversationsOf, messagesByIds } from './rows.js';
import { LOG_LOCK, type Sql } from './sql.js';

export function pgLog(sql: Sql): Pick<AsyncStore, 'events' | 'readStates' | 'lastEventId' | 'databaseTime'> {
  return {
    readStates: async (userId) => {
      const convs = await conversationsOf(sql, userId);
      // Membership lines are not something to read (docs/PROTOCOL.md §6.4.1).
      return sql.rows<ReadState>(
        `SELECT c.conv, c.up_to AS "upTo",
           (SELECT count(*) FROM (SELECT 1 FROM messages WHERE conv = c.conv AND id > c.up_to AND sender_id <> $2
              AND NOT deleted AND group_event IS NULL LIMIT $3) AS unread) AS unread,
           (SELECT count(*) FROM (SELECT 1 FROM mentions WHERE user_id = $2 AND conv = c.conv AND message_id > c.up_to LIMIT $3) AS mentioned) AS mentions
         FROM (SELECT list.conv, list.position, coalesce(r.up_to, 0) AS up_to
               FROM unnest($1::text[]) WITH ORDINALITY AS list (conv, position)
               LEFT JOIN read_cursors r ON r.user_id = $2 AND r.conv = list.conv) AS c
         ORDER BY c.position`,
        [convs, userId, LIMITS.maxUnreadCount],
      );
    },
    /**
     * The highest event id handed out by a committed transaction: read under the log lock (shared),
     * so that no transaction holding an id not yet visible is under way.
     */
    lastEventId: () =>
      sql.transaction(async (tx) => {
        await tx.run('SELECT pg_advisory_xact_lock_shared($1)', [LOG_LOCK]);
        // Messages and log entries share this sequence (migration 2).
        return (await tx.row<{ id: number }>(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS id FROM messages_id_seq`))!.id;
      }),
    databaseTime: async () => (await sql.row<{ ms: number }>('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms'))!.ms,
    /**
     * Like sync: per conversation of the user's, one index range of the log and one of its messages (their
     * own entries), merged; one statement, so the conversations are read in the page's snapshot. Listed a
     * statement before, a first direct message (or one of a group just joined) committed in between was
     * left out of a page holding later ids, and the client's cursor passed it.
     */
    events: async (userId, after, limit) => {
      const rows = await sql.rows<EventRow>(
        `SELECT found.* FROM (${CONVERSATIONS_OF}) AS c
         CROSS JOIN LATERAL ((
           SELECT e.id AS "eventId", e.kind, e.conv, e.message_id AS "messageId", reader.name AS user, e.up_to AS "upTo"
           FROM conv_events e LEFT JOIN users reader ON reader.id = e.user_id
           WHERE e.conv = c.conv AND e.id > $2 AND e.kind <> 'member'
             AND (e.kind <> 'read' OR e.user_id = $1
               OR ((SELECT send_read_receipts FROM users WHERE id = $1) AND c.conv <> 'room' AND reader.send_read_receipts))
           ORDER BY e.id LIMIT $3
           ) UNION ALL (
           SELECT id, 'message', conv, id, NULL, NULL FROM messages
           WHERE conv = c.conv AND id > greatest($2, ${LOGGED_FROM} - 1)
           ORDER BY id LIMIT $3)) AS found
         ORDER BY found."eventId" LIMIT $3`,
        [userId, after, limit + 1],
      );
      const page = rows.slice(0, limit);
      const messages = new Map((await messagesByIds(sql, messageIdsOf(page))).map((message) => [message.id, message]));
      return toEventPage(page, messages, rows.length > limit);
    },
  };
}
