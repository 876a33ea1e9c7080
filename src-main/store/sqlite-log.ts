/**
 * The event log's reads on SQLite (the changes that write it are conversation.ts's): each of the
 * user's conversations through its index, later ones only below the limit + 1 found so far, as
 * sync reads messages; one connection, so the reads see one state.
 */
import { ROOM, type ConversationKey } from '../../src-shared/protocol/conversation.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import type { ReadState } from '../../src-shared/protocol/objects.js';
import { type EventRow, messageIdsOf, toEventPage } from './event-page.js';
import { NO_UPPER_BOUND, type Db, type MessagesByIds } from './rows.js';
import type { ConversationStore } from './types.js';

export function sqliteLog(
  db: Db,
  conversationsOf: (userId: number) => ConversationKey[],
  messagesByIds: MessagesByIds,
): Pick<ConversationStore, 'events' | 'readStates' | 'lastEventId' | 'databaseTime'> {
  /** Messages from here on are their own log entries; older ones have theirs in conv_events (migration 014). */
  const loggedFrom = db.prepare<[], number>('SELECT logged_from FROM message_log_state').pluck().get()!;
  const lastEventId = db.prepare<[], number>(`SELECT seq FROM sqlite_sequence WHERE name = 'messages'`).pluck();
  const cursorOf = db.prepare<[number, string], number>('SELECT up_to FROM read_cursors WHERE user_id = ? AND conv = ?').pluck();
  const unreadCount = db
    .prepare<[string, number, number, number], number>(
      // Membership lines are not something to read (docs/PROTOCOL.md §6.4.1).
      `SELECT count(*) FROM (SELECT 1 FROM messages WHERE conv = ? AND id > ? AND sender_id <> ? AND deleted = 0 AND group_event IS NULL LIMIT ?)`,
    )
    .pluck();
  const unreadMentions = db
    .prepare<[number, string, number, number], number>(
      'SELECT count(*) FROM (SELECT 1 FROM mentions WHERE user_id = ? AND conv = ? AND message_id > ? LIMIT ?)',
    )
    .pluck();
  const receiptsOn = db.prepare<[number], number>('SELECT send_read_receipts FROM users WHERE id = ?').pluck();
  /** The conversation's entries in conv_events and its messages that are entries themselves, merged by id. */
  const eventsIn = db.prepare<
    { conv: string; after: number; below: number; me: number; share: number; limit: number; loggedFrom: number },
    EventRow
  >(
    `SELECT * FROM (
       SELECT e.id AS eventId, e.kind, e.conv, e.message_id AS messageId, reader.name AS user, e.up_to AS upTo
       FROM conv_events e LEFT JOIN users reader ON reader.id = e.user_id
       WHERE e.conv = @conv AND e.id > @after AND e.id < @below AND e.kind <> 'member'
         AND (e.kind <> 'read' OR e.user_id = @me OR (@share = 1 AND reader.send_read_receipts = 1))
       ORDER BY e.id LIMIT @limit)
     UNION ALL
     SELECT * FROM (
       SELECT id AS eventId, 'message' AS kind, conv, id AS messageId, NULL AS user, NULL AS upTo
       FROM messages WHERE conv = @conv AND id > max(@after, @loggedFrom - 1) AND id < @below
       ORDER BY id LIMIT @limit)
     ORDER BY eventId LIMIT @limit`,
  );

  return {
    readStates: (userId) =>
      conversationsOf(userId).map((conv): ReadState => {
        const upTo = cursorOf.get(userId, conv) ?? 0;
        return {
          conv,
          upTo,
          unread: unreadCount.get(conv, upTo, userId, LIMITS.maxUnreadCount)!,
          mentions: unreadMentions.get(userId, conv, upTo, LIMITS.maxUnreadCount)!,
        };
      }),
    // The file is on this machine: its clock is the database's.
    databaseTime: () => Date.now(),
    lastEventId: () => lastEventId.get()!,
    events: (userId, after, limit) => {
      const wanted = limit + 1;
      const share = receiptsOn.get(userId) === 1;
      let rows: EventRow[] = [];
      let below = NO_UPPER_BOUND;
      for (const conv of conversationsOf(userId)) {
        const found = eventsIn.all({ conv, after, below, me: userId, share: share && conv !== ROOM ? 1 : 0, limit: wanted, loggedFrom });
        if (found.length === 0) continue;
        rows = [...rows, ...found].sort((a, b) => a.eventId - b.eventId).slice(0, wanted);
        if (rows.length === wanted) below = rows[wanted - 1]!.eventId;
      }
      const page = rows.slice(0, limit);
      const messages = new Map(messagesByIds(messageIdsOf(page)).map((message) => [message.id, message]));
      return toEventPage(page, messages, rows.length > limit);
    },
  };
}
