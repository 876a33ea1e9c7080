/**
 * Conversation changes (docs/PROTOCOL.md §17): edits, deletes, reactions, mentions, read positions
 * and the event log (see ../conversation.ts, whose rules this follows: one change entry per message,
 * one read entry per user and conversation). Every transaction that adds to the log takes the log
 * lock first, so event ids increase in commit order, as message ids do: since migration 2 a message's
 * id is its event id, and other entries take theirs from the same sequence.
 */
import { LIMITS } from '../../../src-shared/protocol/limits.js';
import type { ReadState, Receipt } from '../../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../../src-shared/fold.js';
import type { AsyncStore, ConversationStore, MessageChange, MessageFacts } from '../types.js';
import { findMentions } from './mentions.js';
import { DAY_MS, NotReadable, OverDailyQuota, canReadConversation } from '../readers.js';
import { CONVERSATIONS_OF, conversationsOf, messageById, messagesByIds } from './rows.js';
import { LOG_LOCK, lockLog, type Sql } from './sql.js';
import { storedText } from './text.js';
import { type EventRow, type RangeRow, eventsByUser, messageIdsOf, rangeConversations, rangeReaders, toEventPage } from '../event-page.js';

type ChangeKind = 'edit' | 'delete' | 'reaction';

/** Messages from this id on are their own log entries; older ones have theirs in conv_events (migration 2). */
const LOGGED_FROM = '(SELECT coalesce(max(logged_from), 1) FROM message_log_state)';

const FACTS = `SELECT id, conv, sender_id AS "senderId", to_user_id AS "toUserId", group_id AS "groupId", ts, deleted,
  group_event IS NOT NULL AS "membershipLine" FROM messages WHERE id = $1`;

export function conversationQueries(sql: Sql, maxUserBytesPerDay = Infinity): Omit<Pick<AsyncStore, keyof ConversationStore>, 'purgeDeleted'> {
  /** Under the log lock: the message's conversation, if `reader` (when given) can read it now. */
  const conversationOf = async (tx: Sql, id: number, reader: number | undefined): Promise<string> => {
    const facts = await tx.row<MessageFacts>(FACTS, [id]);
    if (!facts) throw new NotReadable(`message ${id}`);
    await readable(tx, facts.conv, reader);
    return facts.conv;
  };
  /** An edit's text counts toward its author's daily quota as a send's does (messages.ts); under the log lock, as sends are. */
  const chargeEdit = async (tx: Sql, userId: number, text: string, ts: number): Promise<void> => {
    const day = Math.floor(ts / DAY_MS);
    const bytes = Buffer.byteLength(text);
    const used = (await tx.row<{ bytes: number }>('SELECT bytes FROM daily_usage WHERE user_id = $1 AND day = $2', [userId, day]))?.bytes ?? 0;
    if (Number(used) + bytes > maxUserBytesPerDay) throw new OverDailyQuota(maxUserBytesPerDay, (day + 1) * DAY_MS - ts);
    await tx.run(
      `INSERT INTO daily_usage (user_id, day, bytes) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, day) DO UPDATE SET bytes = daily_usage.bytes + excluded.bytes`,
      [userId, day, bytes],
    );
  };
  const readable = async (tx: Sql, conv: string, reader: number | undefined): Promise<void> => {
    const member = (groupId: number, userId: number): Promise<boolean> =>
      tx.row('SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId]).then((row) => row !== undefined);
    if (reader !== undefined && !(await canReadConversation(conv, reader, member))) throw new NotReadable(conv);
  };

  /** Replaces the message's change entry in the log by a new one of `kind`; returns the message as it is now. */
  const changed = async (tx: Sql, id: number, conv: string, kind: ChangeKind): Promise<MessageChange> => {
    await tx.run('DELETE FROM conv_events WHERE id = (SELECT change_event FROM messages WHERE id = $1)', [id]);
    const { eventId } = (await tx.row<{ eventId: number }>(
      `INSERT INTO conv_events (conv, kind, message_id) VALUES ($1, $2, $3) RETURNING id AS "eventId"`,
      [conv, kind, id],
    ))!;
    await tx.run('UPDATE messages SET change_event = $1 WHERE id = $2', [eventId, id]);
    return { message: (await messageById(tx, id))!, eventId };
  };

  const setMentions = async (tx: Sql, id: number, conv: string, text: string): Promise<void> => {
    await tx.run('DELETE FROM mentions WHERE message_id = $1', [id]);
    const mentioned = await findMentions(tx, conv, text);
    if (mentioned.length === 0) return;
    await tx.run('INSERT INTO mentions (user_id, conv, message_id) SELECT unnest($1::bigint[]), $2, $3 ON CONFLICT DO NOTHING', [
      mentioned.map((user) => user.id),
      conv,
      id,
    ]);
  };

  const sendsReceipts = async (userId: number): Promise<boolean> =>
    (await sql.row<{ on: boolean }>('SELECT send_read_receipts AS on FROM users WHERE id = $1', [userId]))?.on === true;

  return {
    messageFacts: (id) => sql.row<MessageFacts>(FACTS, [id]),
    messageById: (id) => messageById(sql, id),
    editMessage: (id, text, editedAt, reader) =>
      sql.transaction(async (tx) => {
        await lockLog(tx);
        const conv = await conversationOf(tx, id, reader);
        if (reader !== undefined) await chargeEdit(tx, reader, text, editedAt);
        await tx.run('UPDATE messages SET text = $1, folded = $2, edited_at = $3 WHERE id = $4', [
          storedText(text),
          storedText(foldForSearch(text)),
          editedAt,
          id,
        ]);
        await setMentions(tx, id, conv, text);
        return changed(tx, id, conv, 'edit');
      }),
    /**
     * The text is overwritten in the row (UPDATE to ''), with its reply link, reactions, mentions and
     * files. PostgreSQL keeps the old row version in the table file until VACUUM reclaims it, and
     * in its write-ahead log until that is recycled: scrubbing those is the operator's (autovacuum,
     * or VACUUM), not something the store can force per message; see purgeDeleted.
     */
    deleteMessage: (id, reader) =>
      sql.transaction(async (tx) => {
        await lockLog(tx);
        const conv = await conversationOf(tx, id, reader);
        await tx.run(`UPDATE messages SET text = '', folded = '', deleted = true, reply_to = NULL, attachments = NULL WHERE id = $1`, [id]);
        await tx.run('DELETE FROM mentions WHERE message_id = $1', [id]);
        await tx.run('DELETE FROM reactions WHERE message_id = $1', [id]);
        // Its files go, and with the last file of a content, the content (the files_release trigger).
        await tx.run('DELETE FROM files WHERE message_id = $1', [id]);
        return changed(tx, id, conv, 'delete');
      }),
    setReaction: (id, userId, emoji, on, reader) =>
      sql.transaction(async (tx) => {
        await lockLog(tx);
        const conv = await conversationOf(tx, id, reader);
        if (on) {
          const has = await tx.row('SELECT 1 FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3', [id, userId, emoji]);
          if (has) return 'unchanged' as const;
          const { count } = (await tx.row<{ count: number }>('SELECT count(*) AS count FROM reactions WHERE message_id = $1 AND user_id = $2', [
            id,
            userId,
          ]))!;
          if (count >= LIMITS.maxReactionsPerUser) return 'limit' as const;
          await tx.run('INSERT INTO reactions (message_id, user_id, emoji) VALUES ($1, $2, $3)', [id, userId, emoji]);
        } else if ((await tx.run('DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3', [id, userId, emoji])) === 0) {
          return 'unchanged' as const;
        }
        return changed(tx, id, conv, 'reaction');
      }),
    setReadPosition: (userId, conv, upTo, reader) =>
      sql.transaction(async (tx) => {
        await lockLog(tx);
        await readable(tx, conv, reader);
        const current = await tx.row<{ upTo: number; eventId: number }>(
          'SELECT up_to AS "upTo", event_id AS "eventId" FROM read_cursors WHERE user_id = $1 AND conv = $2',
          [userId, conv],
        );
        const last = (await tx.row<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM messages WHERE conv = $1', [conv]))!.id;
        const target = Math.min(upTo, last);
        if (target <= (current?.upTo ?? 0)) return { upTo: current?.upTo ?? 0 };
        if (current) await tx.run('DELETE FROM conv_events WHERE id = $1', [current.eventId]);
        const { eventId } = (await tx.row<{ eventId: number }>(
          `INSERT INTO conv_events (conv, kind, user_id, up_to) VALUES ($1, 'read', $2, $3) RETURNING id AS "eventId"`,
          [conv, userId, target],
        ))!;
        await tx.run(
          `INSERT INTO read_cursors (user_id, conv, up_to, event_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id, conv) DO UPDATE SET up_to = excluded.up_to, event_id = excluded.event_id`,
          [userId, conv, target, eventId],
        );
        return { upTo: target, eventId };
      }),
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
    receipts: (conv, userId) => {
      const [kind, id] = conv.split(':');
      return sql.rows<Receipt>(
        `SELECT u.name AS user, c.up_to AS "upTo" FROM read_cursors c JOIN users u ON u.id = c.user_id
         WHERE c.conv = $1 AND c.user_id <> $2 AND u.send_read_receipts
           AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM group_members g WHERE g.group_id = $3 AND g.user_id = c.user_id))
         ORDER BY u.name_key`,
        [conv, userId, kind === 'group' ? Number(id) : null],
      );
    },
    sendsReadReceipts: sendsReceipts,
    setSendReadReceipts: async (userId, on) => void (await sql.run('UPDATE users SET send_read_receipts = $1 WHERE id = $2', [on, userId])),
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
    messageIdAtEvent: async (eventId) =>
      (await sql.row<{ id: number }>(
        `SELECT coalesce(
           (SELECT max(id) FROM messages WHERE id <= $1 AND id >= ${LOGGED_FROM}),
           (SELECT message_id FROM conv_events WHERE id <= $1 AND kind = 'message' ORDER BY id DESC LIMIT 1),
           0) AS id`,
        [eventId],
      ))!.id,
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
    /** Four statements for a whole range and every reader, however many (the bus's read-back, event-page.ts). */
    eventsOfUsers: async (userIds, after, below) => {
      const rows = await sql.rows<RangeRow>(
        `SELECT e.id AS "eventId", e.kind, e.conv, e.message_id AS "messageId", reader.name AS user, e.up_to AS "upTo",
           e.user_id AS "readerId", coalesce(reader.send_read_receipts, false) AS "readerShares"
         FROM conv_events e LEFT JOIN users reader ON reader.id = e.user_id
         WHERE e.id > $1 AND e.id < $2 AND e.kind <> 'member'
         UNION ALL
         SELECT id, 'message', conv, id, NULL, NULL, NULL, false FROM messages WHERE id > greatest($1, ${LOGGED_FROM} - 1) AND id < $2
         ORDER BY 1`,
        [after, below],
      );
      const { convs, people, groupIds } = rangeConversations(rows);
      const [direct, members, sharing, messages] = await Promise.all([
        people.length > 0
          ? sql.rows<{ userId: number; partnerId: number }>(
              'SELECT user_id AS "userId", partner_id AS "partnerId" FROM dm_partners WHERE user_id = ANY($1) AND partner_id = ANY($2)',
              [userIds, people],
            )
          : [],
        groupIds.length > 0
          ? sql.rows<{ userId: number; groupId: number }>(
              'SELECT user_id AS "userId", group_id AS "groupId" FROM group_members WHERE group_id = ANY($1) AND user_id = ANY($2)',
              [groupIds, userIds],
            )
          : [],
        rows.some((row) => row.kind === 'read')
          ? sql.rows<{ id: number }>('SELECT id FROM users WHERE id = ANY($1) AND send_read_receipts', [userIds])
          : [],
        messagesByIds(sql, messageIdsOf(rows)),
      ]);
      const readers = rangeReaders(userIds, convs, { direct, members, sharing: sharing.map((row) => row.id) });
      return eventsByUser(rows, new Map(messages.map((message) => [message.id, message])), readers);
    },
  };
}
