/**
 * Reading back by user: `sync` (the messages of every conversation the user reads) and the event
 * log's reads (`events`, `readStates`, `lastEventId`); the changes that write the log are
 * conversation.ts's. A page by cursor reads each of the user's conversations through its index,
 * later ones only below the limit + 1 found so far, so a user in many quiet conversations costs
 * one short index probe each. The reads of one page see one state (`snapshot`): listed in an
 * earlier state, a first direct message (or one of a group just joined) committed in between would
 * be left out of a page holding later ids, and the client's cursor would pass it.
 */
import { dmConversation, groupConversation, ROOM, type ConversationKey } from '../../src-shared/protocol/conversation.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import type { ReadState } from '../../src-shared/protocol/objects.js';
import { LOGGED_FROM, type ConversationStore } from './conversation.js';
import { type EventRow, messageIdsOf, toEventPage } from './event-page.js';
import { lockLog, messages, row, rows, snapshot, transaction, type Dialect, type Queries, type Query } from './query.js';
import { NO_UPPER_BOUND } from './rows.js';
import type { Store } from './types.js';

export type LogStore = Pick<Store, 'sync'> & Pick<ConversationStore, 'events' | 'readStates' | 'lastEventId'>;

/** The conversations a user can read now. The room first: usually the busiest, it narrows a merge of pages soonest. */
function* conversationsOf(userId: number): Query<ConversationKey[]> {
  const found = yield* rows<{ part: number; id: number }>(
    `SELECT 1 AS part, partner_id AS id FROM dm_partners WHERE user_id = $1
     UNION ALL SELECT 2, group_id FROM group_members WHERE user_id = $1 ORDER BY 1, 2`,
    [userId],
  );
  return [ROOM, ...found.map(({ part, id }) => (part === 1 ? dmConversation(userId, id) : groupConversation(id)))];
}

/**
 * The first limit + 1 of what `read` finds in each conversation after `after`, by `idOf`: each read
 * below the limit + 1th found so far, once there are that many.
 */
function* merged<T>(convs: ConversationKey[], limit: number, idOf: (found: T) => number, read: (conv: ConversationKey, below: number) => Query<T[]>): Query<T[]> {
  const wanted = limit + 1;
  let candidates: T[] = [];
  let below = NO_UPPER_BOUND;
  for (const conv of convs) {
    const found = yield* read(conv, below);
    if (found.length === 0) continue;
    candidates = [...candidates, ...found].sort((a, b) => idOf(a) - idOf(b)).slice(0, wanted);
    if (candidates.length === wanted) below = idOf(candidates[wanted - 1]!);
  }
  return candidates;
}

export function logQueries(d: Dialect): Queries<LogStore> {
  return {
    *sync(userId, after, limit) {
      const ids = yield* snapshot(
        (function* () {
          return yield* merged((yield* conversationsOf(userId)), limit, (id: number) => id, function* (conv, below) {
            const found = yield* rows<{ id: number }>('SELECT id FROM messages WHERE conv = $1 AND id > $2 AND id < $3 ORDER BY id LIMIT $4', [conv, after, below, limit + 1]);
            return found.map((message) => message.id);
          });
        })(),
      );
      return { messages: yield* messages(ids.slice(0, limit)), hasMore: ids.length > limit };
    },

    /** Per conversation, the entries in conv_events and the messages that are entries themselves (migration 014), merged by id. */
    *events(userId, after, limit) {
      const found = yield* snapshot(
        (function* () {
          const shares = (yield* row<{ on: boolean | number }>('SELECT send_read_receipts AS "on" FROM users WHERE id = $1', [userId]))?.on;
          return yield* merged((yield* conversationsOf(userId)), limit, (event: EventRow) => event.eventId, (conv, below) =>
            rows<EventRow>(
              `SELECT * FROM (
                 SELECT e.id AS "eventId", e.kind, e.conv, e.message_id AS "messageId", reader.name AS "user", e.up_to AS "upTo"
                 FROM conv_events e LEFT JOIN users reader ON reader.id = e.user_id
                 WHERE e.conv = $1 AND e.id > $2 AND e.id < $3 AND e.kind <> 'member'
                   AND (e.kind <> 'read' OR e.user_id = $4 OR ($5 AND reader.send_read_receipts))
                 ORDER BY e.id LIMIT $6) AS logged
               UNION ALL
               SELECT * FROM (
                 SELECT id AS "eventId", 'message' AS kind, conv, id AS "messageId", CAST(NULL AS text) AS "user", CAST(NULL AS bigint) AS "upTo"
                 FROM messages WHERE conv = $1 AND id > ${d.greatest}($2, ${LOGGED_FROM} - 1) AND id < $3
                 ORDER BY id LIMIT $6) AS own
               ORDER BY 1 LIMIT $6`,
              [conv, after, below, userId, Boolean(shares) && conv !== ROOM, limit + 1],
            ),
          );
        })(),
      );
      const page = found.slice(0, limit);
      const byId = new Map((yield* messages(messageIdsOf(page))).map((message) => [message.id, message]));
      return toEventPage(page, byId, found.length > limit);
    },

    *readStates(userId) {
      const convs = yield* conversationsOf(userId);
      // Membership lines are not something to read (docs/PROTOCOL.md §6.4.1).
      const states = yield* rows<ReadState>(
        `SELECT c.conv, c.up_to AS "upTo",
           (SELECT count(*) FROM (SELECT 1 FROM messages WHERE conv = c.conv AND id > c.up_to AND sender_id <> $2
              AND NOT deleted AND group_event IS NULL LIMIT $3) AS unread) AS unread,
           (SELECT count(*) FROM (SELECT 1 FROM mentions WHERE user_id = $2 AND conv = c.conv AND message_id > c.up_to LIMIT $3) AS mentioned) AS mentions
         FROM (SELECT list.value AS conv, coalesce(r.up_to, 0) AS up_to FROM ${d.list('$1', 'text')} AS list
               LEFT JOIN read_cursors r ON r.user_id = $2 AND r.conv = list.value) AS c`,
        [convs, userId, LIMITS.maxUnreadCount],
      );
      const byConv = new Map(states.map((state) => [state.conv, state]));
      return convs.map((conv) => byConv.get(conv)!);
    },

    /**
     * The highest event id handed out by a committed transaction: read under the log lock, shared, so
     * that no transaction holding an id not yet visible is under way. Messages and log entries share
     * the messages' sequence (migration 014).
     */
    *lastEventId() {
      return yield* transaction(
        (function* () {
          yield* lockLog('shared');
          return (yield* row<{ id: number }>(`SELECT ${d.lastEventId} AS id`))!.id;
        })(),
      );
    },
  };
}
