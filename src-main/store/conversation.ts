/**
 * Conversation changes (protocol 1.1, docs/PROTOCOL.md §17): edits, deletes, reactions,
 * mentions, read positions and the event log that lets a client catch up on all of them.
 *
 * The log holds one 'message' entry per message (since migration 014 the message row itself,
 * whose id is its event id; conv_events holds the rest), and per message at most one change entry
 * (edit, delete or reaction: the newest replaces the one before, since each is read with
 * the whole message as it is now), and per user and conversation one 'read' entry. So it
 * grows with messages and readers, not with how often they change.
 */
import { E2EE_ID_BASE } from '../../src-shared/e2ee-app.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { foldForSearch } from '../../src-shared/fold.js';
import type { ChatMessage, ConversationEvent, EventPage, ReadState, Receipt } from '../../src-shared/protocol/objects.js';
import { eventsByUser, messageIdsOf, rangeConversations, rangeReaders, type RangeRow } from './event-page.js';
import { findMentions } from './mentions.js';
import { lockLog, messages, row, rows, run, transaction, type Dialect, type Queries, type Query } from './query.js';
import { DAY_MS, NotReadable, OverDailyQuota, canReadConversation } from './readers.js';

/** What the server checks before changing a message. */
export interface MessageFacts {
  id: number;
  conv: ConversationKey;
  senderId: number;
  toUserId: number | null;
  groupId: number | null;
  ts: number;
  deleted: boolean;
  /** A membership line (§6.4.1) or a call line (§21.5): the server wrote it, nobody may change or answer it. */
  membershipLine: boolean;
}

/** A message after a change, and the change's entry in the event log. */
export interface MessageChange {
  message: ChatMessage;
  eventId: number;
}

/**
 * Conversation changes (docs/PROTOCOL.md §17). Callers check who may do what; the message must exist.
 * Given `reader`, a change is made only if that user can read the conversation as it commits, else it
 * throws NotReadable (readers.ts) and changes nothing: what was checked before may have changed since.
 */
/** The store's calls for conversation changes; ServerStore (types.ts) takes them from here. */
export interface ConversationStore {
  messageFacts(id: number): MessageFacts | undefined;
  messageById(id: number): ChatMessage | undefined;
  /**
   * New text (mentions found again); the message must not be deleted. Given `reader` (its author), the new
   * text counts toward their daily quota as a send's does (OverDailyQuota, readers.ts, past it).
   */
  editMessage(id: number, text: string, editedAt: number, reader?: number): MessageChange;
  /** Removes the text, reply link, reactions and mentions; replies to it then quote it as deleted. */
  deleteMessage(id: number, reader?: number): MessageChange;
  /** 'unchanged': the reaction was already so; 'limit': the user has LIMITS.maxReactionsPerUser on it. */
  setReaction(id: number, userId: number, emoji: string, on: boolean, reader?: number): MessageChange | 'unchanged' | 'limit';
  /** Moves the position forward (to at most the conversation's last message); eventId only when it moved. */
  setReadPosition(userId: number, conv: ConversationKey, upTo: number, reader?: number): { upTo: number; eventId?: number };
  /** Every conversation the user can read, with position and unread counts (up to LIMITS.maxUnreadCount). */
  readStates(userId: number): ReadState[];
  /** Positions in conv of its other current readers who send read receipts. */
  receipts(conv: ConversationKey, userId: number): Receipt[];
  sendsReadReceipts(userId: number): boolean;
  setSendReadReceipts(userId: number, on: boolean): void;
  /** Highest event id handed out, 0 when none. */
  lastEventId(): number;
  /** The database's clock now (ms epoch), which every node of a cluster counts stored times from (server/clock.ts). */
  databaseTime(): number;
  /** The message of the newest message entry at or before eventId (0 when none): a client past eventId holds it. */
  messageIdAtEvent(eventId: number): number;
  /** The user's events after `after`, oldest first: their conversations now; others' read positions where shared. */
  events(userId: number, after: number, limit: number): EventPage;
  /**
   * The events with ids in (after, below) as each of the users would read them by events(), in a few reads
   * for them all (the cluster's read-back when the bus lost a range); users who may see none are left out.
   */
  eventsOfUsers(userIds: readonly number[], after: number, below: number): Map<number, ConversationEvent[]>;
  /** Checkpoints and truncates the WAL off the server's thread, so deleted text is gone from it too (wal-purge.ts). */
  purgeDeleted(): Promise<void>;
}

/** The queries written once; each engine answers the log's reads (events, readStates, lastEventId) and its clock itself. */
export type ConversationChanges = Omit<ConversationStore, 'purgeDeleted' | 'events' | 'readStates' | 'lastEventId' | 'databaseTime'>;

type ChangeKind = 'edit' | 'delete' | 'reaction';

/** Messages from this id on are their own log entries; older ones have theirs in conv_events (migration 014). */
export const LOGGED_FROM = '(SELECT coalesce(max(logged_from), 1) FROM message_log_state)';

const FACTS = `SELECT id, conv, sender_id AS "senderId", to_user_id AS "toUserId", group_id AS "groupId", ts, deleted,
  (group_event IS NOT NULL OR call_event IS NOT NULL) AS "membershipLine" FROM messages WHERE id = $1`;

function* facts(id: number): Query<MessageFacts | undefined> {
  const found = yield* row<MessageFacts>(FACTS, [id]);
  // SQLite answers 0/1 where PostgreSQL answers booleans.
  return found && { ...found, deleted: Boolean(found.deleted), membershipLine: Boolean(found.membershipLine) };
}

function* readable(conv: string, reader: number | undefined): Query<void> {
  if (reader === undefined) return;
  const [kind, groupId] = conv.split(':');
  const member =
    kind === 'group' && (yield* row('SELECT 1 AS found FROM group_members WHERE group_id = $1 AND user_id = $2', [Number(groupId), reader])) !== undefined;
  if (!canReadConversation(conv, reader, () => member)) throw new NotReadable(conv);
}

/** The message's conversation, if `reader` (when given) can read it now. */
function* conversationOf(id: number, reader: number | undefined): Query<string> {
  const found = yield* facts(id);
  if (!found) throw new NotReadable(`message ${id}`);
  yield* readable(found.conv, reader);
  return found.conv;
}

export function conversationQueries(d: Dialect, maxUserBytesPerDay = Infinity): Queries<ConversationChanges> {
  /** Adds an entry to the log; returns its id. */
  const logEntry = function* (conv: string, kind: ChangeKind | 'read', messageId: number | null, userId: number | null, upTo: number | null) {
    const added = yield* rows<{ eventId: number }>(
      `INSERT INTO conv_events (id, conv, kind, message_id, user_id, up_to) VALUES (${d.nextEventId}, $1, $2, $3, $4, $5) RETURNING id AS "eventId"`,
      [conv, kind, messageId, userId, upTo],
    );
    return added[0]!.eventId;
  };

  /** Replaces the message's change entry in the log by a new one of `kind`; returns the message as it is now. */
  const changed = function* (id: number, conv: string, kind: ChangeKind): Query<MessageChange> {
    yield* run('DELETE FROM conv_events WHERE id = (SELECT change_event FROM messages WHERE id = $1)', [id]);
    const eventId = yield* logEntry(conv, kind, id, null, null);
    yield* run('UPDATE messages SET change_event = $1 WHERE id = $2', [eventId, id]);
    return { message: (yield* messages([id]))[0]!, eventId };
  };

  /** An edit's text counts toward its author's daily quota as a send's does (messages.ts); under the log lock, as sends are. */
  const chargeEdit = function* (userId: number, text: string, ts: number): Query<void> {
    const day = Math.floor(ts / DAY_MS);
    const bytes = Buffer.byteLength(text);
    const used = (yield* row<{ bytes: number }>('SELECT bytes FROM daily_usage WHERE user_id = $1 AND day = $2', [userId, day]))?.bytes ?? 0;
    if (used + bytes > maxUserBytesPerDay) throw new OverDailyQuota(maxUserBytesPerDay, (day + 1) * DAY_MS - ts);
    yield* run(
      `INSERT INTO daily_usage (user_id, day, bytes) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, day) DO UPDATE SET bytes = daily_usage.bytes + excluded.bytes`,
      [userId, day, bytes],
    );
  };

  const setMentions = function* (id: number, conv: string, text: string): Query<void> {
    yield* run('DELETE FROM mentions WHERE message_id = $1', [id]);
    for (const user of yield* findMentions(d, conv, text)) {
      yield* run('INSERT INTO mentions (user_id, conv, message_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [user.id, conv, id]);
    }
  };

  /** Every change takes the log lock first, so event ids increase in commit order, as message ids do. */
  const change = <T>(body: () => Query<T>): Query<T> =>
    transaction(
      (function* () {
        yield* lockLog();
        return yield* body();
      })(),
    );

  return {
    messageFacts: facts,
    *messageById(id) {
      return (yield* messages([id]))[0];
    },
    editMessage: (id, text, editedAt, reader) =>
      change(function* () {
        const conv = yield* conversationOf(id, reader);
        if (reader !== undefined) yield* chargeEdit(reader, text, editedAt);
        yield* run('UPDATE messages SET text = $1, folded = $2, edited_at = $3 WHERE id = $4', [
          d.text(text),
          d.folded(text, foldForSearch(text)),
          editedAt,
          id,
        ]);
        yield* setMentions(id, conv, text);
        return yield* changed(id, conv, 'edit');
      }),
    /**
     * The text is overwritten in the row, with its reply link, reactions, mentions and files (and with
     * the last file of a content, the content: the files_release trigger). What the database keeps of
     * the old text elsewhere is purgeDeleted's.
     */
    deleteMessage: (id, reader) =>
      change(function* () {
        const conv = yield* conversationOf(id, reader);
        yield* run(`UPDATE messages SET text = '', folded = '', deleted = TRUE, reply_to = NULL, attachments = NULL WHERE id = $1`, [id]);
        yield* run('DELETE FROM mentions WHERE message_id = $1', [id]);
        yield* run('DELETE FROM reactions WHERE message_id = $1', [id]);
        yield* run('DELETE FROM files WHERE message_id = $1', [id]);
        return yield* changed(id, conv, 'delete');
      }),
    setReaction: (id, userId, emoji, on, reader) =>
      change(function* () {
        const conv = yield* conversationOf(id, reader);
        if (on) {
          if (yield* row('SELECT 1 AS found FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3', [id, userId, emoji])) return 'unchanged';
          const { count } = (yield* row<{ count: number }>('SELECT count(*) AS count FROM reactions WHERE message_id = $1 AND user_id = $2', [id, userId]))!;
          if (count >= LIMITS.maxReactionsPerUser) return 'limit';
          yield* run('INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, $3)', [id, userId, emoji]);
        } else if ((yield* run('DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3', [id, userId, emoji])) === 0) {
          return 'unchanged';
        }
        return yield* changed(id, conv, 'reaction');
      }),
    setReadPosition: (userId, conv, upTo, reader) =>
      change(function* () {
        yield* readable(conv, reader);
        const current = yield* row<{ upTo: number; eventId: number }>(
          'SELECT up_to AS "upTo", event_id AS "eventId" FROM read_cursors WHERE user_id = $1 AND conv = $2',
          [userId, conv],
        );
        const last = (yield* row<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM messages WHERE conv = $1', [conv]))!.id;
        // An end-to-end encrypted message's id is E2EE_ID_BASE + its frame's (PROTOCOL §20.12): read up to the newest frame.
        const frame = yield* row<{ id: number }>('SELECT id FROM mls_frames WHERE conv = $1 ORDER BY seq DESC LIMIT 1', [conv]);
        const target = Math.min(upTo, frame === undefined ? last : E2EE_ID_BASE + frame.id);
        if (target <= (current?.upTo ?? 0)) return { upTo: current?.upTo ?? 0 };
        if (current) yield* run('DELETE FROM conv_events WHERE id = $1', [current.eventId]);
        const eventId = yield* logEntry(conv, 'read', null, userId, target);
        yield* run(
          `INSERT INTO read_cursors (user_id, conv, up_to, event_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id, conv) DO UPDATE SET up_to = excluded.up_to, event_id = excluded.event_id`,
          [userId, conv, target, eventId],
        );
        return { upTo: target, eventId };
      }),
    receipts: (conv: ConversationKey, userId) => {
      const [kind, id] = conv.split(':');
      return rows<Receipt>(
        `SELECT u.name AS user, c.up_to AS "upTo" FROM read_cursors c JOIN users u ON u.id = c.user_id
         WHERE c.conv = $1 AND c.user_id <> $2 AND u.send_read_receipts
           AND (CAST($3 AS BIGINT) IS NULL OR EXISTS (SELECT 1 FROM group_members g WHERE g.group_id = $3 AND g.user_id = c.user_id))
         ORDER BY u.name_key`,
        [conv, userId, kind === 'group' ? Number(id) : null],
      );
    },
    *sendsReadReceipts(userId) {
      return Boolean((yield* row<{ on: boolean | number }>('SELECT send_read_receipts AS "on" FROM users WHERE id = $1', [userId]))?.on);
    },
    *setSendReadReceipts(userId, on) {
      yield* run('UPDATE users SET send_read_receipts = $1 WHERE id = $2', [on, userId]);
    },
    *messageIdAtEvent(eventId) {
      return (yield* row<{ id: number }>(
        `SELECT coalesce(
           (SELECT max(id) FROM messages WHERE id <= $1 AND id >= ${LOGGED_FROM}),
           (SELECT message_id FROM conv_events WHERE id <= $1 AND kind = 'message' ORDER BY id DESC LIMIT 1),
           0) AS id`,
        [eventId],
      ))!.id;
    },
    eventsOfUsers: (userIds, after, below) => eventsOfUsers(d, userIds, after, below),
  };
}

/** Four statements for a whole range and every reader, however many (the cluster's read-back, event-page.ts). */
function* eventsOfUsers(d: Dialect, userIds: readonly number[], after: number, below: number): Query<Map<number, ConversationEvent[]>> {
  const found = yield* rows<RangeRow>(
    `SELECT e.id AS "eventId", e.kind, e.conv, e.message_id AS "messageId", reader.name AS user, e.up_to AS "upTo",
       e.user_id AS "readerId", coalesce(reader.send_read_receipts, FALSE) AS "readerShares"
     FROM conv_events e LEFT JOIN users reader ON reader.id = e.user_id
     WHERE e.id > $1 AND e.id < $2 AND e.kind <> 'member'
     UNION ALL
     SELECT id, 'message', conv, id, NULL, NULL, NULL, FALSE FROM messages WHERE id > ${d.greatest}($1, ${LOGGED_FROM} - 1) AND id < $2
     ORDER BY 1`,
    [after, below],
  );
  const range = found.map((entry) => ({ ...entry, readerShares: Boolean(entry.readerShares) }));
  const { convs, people, groupIds } = rangeConversations(range);
  /** Rows of `select` (ending in the column to match against `others`) of the users asked about. */
  const among = function* <Row>(select: string, others: readonly number[]): Query<Row[]> {
    if (others.length === 0) return [];
    return yield* rows<Row>(`${select} IN ${d.list('$2', 'bigint')} AND user_id IN ${d.list('$1', 'bigint')}`, [userIds, others]);
  };
  const direct = yield* among<{ userId: number; partnerId: number }>('SELECT user_id AS "userId", partner_id AS "partnerId" FROM dm_partners WHERE partner_id', people);
  const members = yield* among<{ userId: number; groupId: number }>('SELECT user_id AS "userId", group_id AS "groupId" FROM group_members WHERE group_id', groupIds);
  const sharing = range.some((entry) => entry.kind === 'read')
    ? yield* rows<{ id: number }>(`SELECT id FROM users WHERE id IN ${d.list('$1', 'bigint')} AND send_read_receipts`, [userIds])
    : [];
  const readers = rangeReaders(userIds, convs, { direct, members, sharing: sharing.map((user) => user.id) });
  const shown = yield* messages(messageIdsOf(range));
  return eventsByUser(range, new Map(shown.map((message) => [message.id, message])), readers);
}
