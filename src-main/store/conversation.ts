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
import { ROOM, type ConversationKey } from '../../src-shared/protocol/conversation.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { ChatMessage, ReadState, Receipt } from '../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../src-shared/fold.js';
import { MESSAGE_SELECT, NO_UPPER_BOUND, toChatMessage, type Db, type MessageRecord, type MessagesByIds } from './rows.js';
import type { ConversationStore, MessageChange, MessageFacts } from './types.js';
import { DAY_MS, NotReadable, OverDailyQuota, canReadConversation } from './readers.js';
import { type EventRow, type RangeRow, eventsByUser, messageIdsOf, rangeConversations, rangeReaders, toEventPage } from './event-page.js';
import { storedFold } from './searched-text.js';

/** `@name`: a name's characters (letters, digits, marks, _ . -) after an @ that does not continue a word. */
const MENTION = /(?<![\p{L}\p{N}\p{M}_.-])@([\p{L}\p{N}\p{M}_.-]+)/gu;
/** Bounds the lookups one text costs. */
const MAX_MENTION_TRIES = 50;

/** A mentioned user: who they are and how the message shows them. */
export interface Mentioned {
  id: number;
  name: string;
}

/**
 * The people a text mentions among those who can read conv: each `@name` is looked up as
 * written, then without trailing dots, dashes or underscores ("@bob." ends a sentence).
 */
export function mentionFinder(db: Db): (conv: ConversationKey, text: string) => Mentioned[] {
  const activeUser = db.prepare<[string], Mentioned>(`SELECT id, name FROM users WHERE name_key = ? AND status = 'active'`);
  const isMember = db.prepare<[number, number], number>('SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?').pluck();
  const canRead = (conv: ConversationKey, userId: number): boolean => {
    if (conv === ROOM) return true;
    const [kind, a, b] = conv.split(':');
    if (kind === 'dm') return Number(a) === userId || Number(b) === userId;
    return isMember.get(Number(a), userId) !== undefined;
  };
  return (conv, text) => {
    if (!text.includes('@')) return [];
    const found = new Map<number, Mentioned>();
    let tries = 0;
    for (const match of text.matchAll(MENTION)) {
      let candidate = match[1]!;
      while (candidate !== '' && tries < MAX_MENTION_TRIES) {
        tries += 1;
        const user = activeUser.get(nameKey(candidate));
        if (user) {
          if (canRead(conv, user.id)) found.set(user.id, user);
          break;
        }
        const shorter = candidate.replace(/[._-]$/, '');
        if (shorter === candidate) break;
        candidate = shorter;
      }
    }
    return [...found.values()];
  };
}

export function conversationQueries(
  db: Db,
  conversationsOf: (userId: number) => ConversationKey[],
  messagesByIds: MessagesByIds,
  maxUserBytesPerDay = Infinity,
): Omit<ConversationStore, 'purgeDeleted'> {
  const findMentions = mentionFinder(db);
  const messageFacts = db.prepare<[number], MessageFacts>(
    `SELECT id, conv, sender_id AS senderId, to_user_id AS toUserId, group_id AS groupId, ts, deleted = 1 AS deleted,
       group_event IS NOT NULL AS membershipLine
     FROM messages WHERE id = ?`,
  );
  const messageById = db.prepare<[number], MessageRecord>(`${MESSAGE_SELECT} WHERE m.id = ?`);
  const setText = db.prepare<{ id: number; text: string; folded: string; editedAt: number }>(
    'UPDATE messages SET text = @text, folded = @folded, edited_at = @editedAt WHERE id = @id',
  );
  const blank = db.prepare<[number]>(
    `UPDATE messages SET text = '', folded = '', deleted = 1, reply_to = NULL WHERE id = ?`,
  );
  const dropMentions = db.prepare<[number]>('DELETE FROM mentions WHERE message_id = ?');
  const addMention = db.prepare<[number, string, number]>('INSERT OR IGNORE INTO mentions (user_id, conv, message_id) VALUES (?, ?, ?)');
  const dropReactions = db.prepare<[number]>('DELETE FROM reactions WHERE message_id = ?');
  const addReaction = db.prepare<[number, number, string]>(
    'INSERT OR IGNORE INTO reactions (message_id, user_id, emoji) VALUES (?, ?, ?)',
  );
  const removeReaction = db.prepare<[number, number, string]>('DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?');
  const reactionsOfUser = db
    .prepare<[number, number], number>('SELECT count(*) FROM reactions WHERE message_id = ? AND user_id = ?')
    .pluck();
  const hasReaction = db
    .prepare<[number, number, string], number>('SELECT 1 FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?')
    .pluck();
  const dropEvent = db.prepare<[number]>('DELETE FROM conv_events WHERE id = ?');
  /** Takes the next id of the sequence messages and entries share (migration 014; its trigger moves the counter). */
  const addEvent = db.prepare<{ conv: string; kind: string; messageId: number | null; userId: number | null; upTo: number | null }>(
    `INSERT INTO conv_events (id, conv, kind, message_id, user_id, up_to)
     VALUES ((SELECT seq + 1 FROM sqlite_sequence WHERE name = 'messages'), @conv, @kind, @messageId, @userId, @upTo)`,
  );
  const changeEventOf = db.prepare<[number], number | null>('SELECT change_event FROM messages WHERE id = ?').pluck();
  const setChangeEvent = db.prepare<[number, number]>('UPDATE messages SET change_event = ? WHERE id = ?');
  /** Messages from here on are their own log entries; older ones have theirs in conv_events (migration 014). */
  const loggedFrom = db.prepare<[], number>('SELECT logged_from FROM message_log_state').pluck().get()!;
  const lastEventId = db.prepare<[], number>(`SELECT seq FROM sqlite_sequence WHERE name = 'messages'`).pluck();
  const messageAtEvent = db
    .prepare<{ eventId: number; loggedFrom: number }, number>(
      `SELECT coalesce(
         (SELECT max(id) FROM messages WHERE id <= @eventId AND id >= @loggedFrom),
         (SELECT message_id FROM conv_events WHERE id <= @eventId AND kind = 'message' ORDER BY id DESC LIMIT 1),
         0)`,
    )
    .pluck();
  const cursorOf = db.prepare<[number, string], { upTo: number; eventId: number }>(
    'SELECT up_to AS upTo, event_id AS eventId FROM read_cursors WHERE user_id = ? AND conv = ?',
  );
  const saveCursor = db.prepare<[number, string, number, number]>(
    `INSERT INTO read_cursors (user_id, conv, up_to, event_id) VALUES (?, ?, ?, ?)
     ON CONFLICT (user_id, conv) DO UPDATE SET up_to = excluded.up_to, event_id = excluded.event_id`,
  );
  const lastInConversation = db.prepare<[string], number>('SELECT coalesce(max(id), 0) FROM messages WHERE conv = ?').pluck();
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
  const receiptsIn = db.prepare<{ conv: string; me: number; groupId: number | null }, Receipt>(
    `SELECT u.name AS user, c.up_to AS upTo FROM read_cursors c JOIN users u ON u.id = c.user_id
     WHERE c.conv = @conv AND c.user_id <> @me AND u.send_read_receipts = 1
       AND (@groupId IS NULL OR EXISTS (SELECT 1 FROM group_members g WHERE g.group_id = @groupId AND g.user_id = c.user_id))
     ORDER BY u.name_key`,
  );
  const receiptsOn = db.prepare<[number], number>('SELECT send_read_receipts FROM users WHERE id = ?').pluck();
  const setReceipts = db.prepare<[number, number]>('UPDATE users SET send_read_receipts = ? WHERE id = ?');
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

  /** One range of the whole log, for every reader at once (eventsOfUsers). */
  const rangeRows = db.prepare<{ after: number; below: number; loggedFrom: number }, Omit<RangeRow, 'readerShares'> & { readerShares: number }>(
    `SELECT e.id AS eventId, e.kind, e.conv, e.message_id AS messageId, reader.name AS user, e.up_to AS upTo,
       e.user_id AS readerId, coalesce(reader.send_read_receipts, 0) AS readerShares
     FROM conv_events e LEFT JOIN users reader ON reader.id = e.user_id
     WHERE e.id > @after AND e.id < @below AND e.kind <> 'member'
     UNION ALL
     SELECT id, 'message', conv, id, NULL, NULL, NULL, 0 FROM messages WHERE id > max(@after, @loggedFrom - 1) AND id < @below
     ORDER BY eventId`,
  );
  const directAmong = db.prepare<{ users: string; people: string }, { userId: number; partnerId: number }>(
    `SELECT user_id AS userId, partner_id AS partnerId FROM dm_partners
     WHERE user_id IN (SELECT value FROM json_each(@users)) AND partner_id IN (SELECT value FROM json_each(@people))`,
  );
  const membersAmong = db.prepare<{ users: string; groups: string }, { userId: number; groupId: number }>(
    `SELECT user_id AS userId, group_id AS groupId FROM group_members
     WHERE group_id IN (SELECT value FROM json_each(@groups)) AND user_id IN (SELECT value FROM json_each(@users))`,
  );
  const sharingAmong = db
    .prepare<[string], number>('SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?)) AND send_read_receipts = 1')
    .pluck();

  const message = (id: number): ChatMessage => toChatMessage(messageById.get(id)!);

  /** Replaces the message's change entry in the log by a new one of `kind`. */
  const logChange = (id: number, conv: string, kind: 'edit' | 'delete' | 'reaction'): number => {
    const before = changeEventOf.get(id);
    if (before !== null && before !== undefined) dropEvent.run(before);
    const eventId = Number(addEvent.run({ conv, kind, messageId: id, userId: null, upTo: null }).lastInsertRowid);
    setChangeEvent.run(eventId, id);
    return eventId;
  };

  const changed = (id: number, conv: string, kind: 'edit' | 'delete' | 'reaction'): MessageChange => {
    const eventId = logChange(id, conv, kind);
    return { message: message(id), eventId };
  };

  const memberOf = db.prepare<[number, number], number>('SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?').pluck();
  /** Inside the change's transaction: the message's conversation, if `reader` (when given) can read it now. */
  const conversationFor = (id: number, reader: number | undefined): string => {
    const facts = messageFacts.get(id);
    if (!facts) throw new NotReadable(`message ${id}`);
    readable(facts.conv, reader);
    return facts.conv;
  };
  const readable = (conv: string, reader: number | undefined): void => {
    if (reader !== undefined && !canReadConversation(conv, reader, (groupId, userId) => memberOf.get(groupId, userId) !== undefined)) {
      throw new NotReadable(conv);
    }
  };

  const usedOn = db.prepare<[number, number], number>('SELECT bytes FROM daily_usage WHERE user_id = ? AND day = ?').pluck();
  const addUsage = db.prepare<[number, number, number]>(
    `INSERT INTO daily_usage (user_id, day, bytes) VALUES (?, ?, ?)
     ON CONFLICT (user_id, day) DO UPDATE SET bytes = bytes + excluded.bytes`,
  );
  /** An edit's text counts toward its author's daily quota as a send's does (messages.ts). */
  const chargeEdit = (userId: number, text: string, ts: number): void => {
    const day = Math.floor(ts / DAY_MS);
    const bytes = Buffer.byteLength(text);
    if ((usedOn.get(userId, day) ?? 0) + bytes > maxUserBytesPerDay) throw new OverDailyQuota(maxUserBytesPerDay, (day + 1) * DAY_MS - ts);
    addUsage.run(userId, day, bytes);
  };

  const edit = db.transaction((id: number, text: string, editedAt: number, reader?: number): MessageChange => {
    const conv = conversationFor(id, reader);
    if (reader !== undefined) chargeEdit(reader, text, editedAt);
    setText.run({ id, text, folded: storedFold(text, foldForSearch(text)), editedAt });
    dropMentions.run(id);
    for (const user of findMentions(conv, text)) addMention.run(user.id, conv, id);
    return changed(id, conv, 'edit');
  });

  const remove = db.transaction((id: number, reader?: number): MessageChange => {
    const conv = conversationFor(id, reader);
    blank.run(id);
    dropMentions.run(id);
    dropReactions.run(id);
    return changed(id, conv, 'delete');
  });

  const react = db.transaction(
    (id: number, userId: number, emoji: string, on: boolean, reader?: number): MessageChange | 'unchanged' | 'limit' => {
      const conv = conversationFor(id, reader);
      if (on) {
        if (hasReaction.get(id, userId, emoji) !== undefined) return 'unchanged';
        if (reactionsOfUser.get(id, userId)! >= LIMITS.maxReactionsPerUser) return 'limit';
        addReaction.run(id, userId, emoji);
      } else if (removeReaction.run(id, userId, emoji).changes === 0) {
        return 'unchanged';
      }
      return changed(id, conv, 'reaction');
    },
  );

  const read = db.transaction((userId: number, conv: string, upTo: number, reader?: number): { upTo: number; eventId?: number } => {
    readable(conv, reader);
    const current = cursorOf.get(userId, conv);
    const target = Math.min(upTo, lastInConversation.get(conv)!);
    if (target <= (current?.upTo ?? 0)) return { upTo: current?.upTo ?? 0 };
    if (current) dropEvent.run(current.eventId);
    const eventId = Number(addEvent.run({ conv, kind: 'read', messageId: null, userId, upTo: target }).lastInsertRowid);
    saveCursor.run(userId, conv, target, eventId);
    return { upTo: target, eventId };
  });

  return {
    messageFacts: (id) => messageFacts.get(id),
    messageById: (id) => {
      const record = messageById.get(id);
      return record && toChatMessage(record);
    },
    editMessage: (id, text, editedAt, reader) => edit(id, text, editedAt, reader),
    deleteMessage: (id, reader) => remove(id, reader),
    setReaction: (id, userId, emoji, on, reader) => react(id, userId, emoji, on, reader),
    setReadPosition: (userId, conv, upTo, reader) => read(userId, conv, upTo, reader),
    readStates: (userId) =>
      conversationsOf(userId).map((conv): ReadState => {
        const upTo = cursorOf.get(userId, conv)?.upTo ?? 0;
        return {
          conv,
          upTo,
          unread: unreadCount.get(conv, upTo, userId, LIMITS.maxUnreadCount)!,
          mentions: unreadMentions.get(userId, conv, upTo, LIMITS.maxUnreadCount)!,
        };
      }),
    receipts: (conv, userId) => {
      const [kind, id] = conv.split(':');
      return receiptsIn.all({ conv, me: userId, groupId: kind === 'group' ? Number(id) : null });
    },
    sendsReadReceipts: (userId) => receiptsOn.get(userId) === 1,
    setSendReadReceipts: (userId, on) => void setReceipts.run(on ? 1 : 0, userId),
    // The file is on this machine: its clock is the database's.
    databaseTime: () => Date.now(),
    lastEventId: () => lastEventId.get()!,
    messageIdAtEvent: (eventId) => messageAtEvent.get({ eventId, loggedFrom })!,
    /** Like sync: each conversation through its index, later ones only below the limit + 1 found so far. */
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
    eventsOfUsers: (userIds, after, below) => {
      const rows = rangeRows.all({ after, below, loggedFrom }).map((row) => ({ ...row, readerShares: row.readerShares === 1 }));
      const { convs, people, groupIds } = rangeConversations(rows);
      const users = JSON.stringify(userIds);
      const readers = rangeReaders(userIds, convs, {
        direct: people.length > 0 ? directAmong.all({ users, people: JSON.stringify(people) }) : [],
        members: groupIds.length > 0 ? membersAmong.all({ users, groups: JSON.stringify(groupIds) }) : [],
        sharing: rows.some((row) => row.kind === 'read') ? sharingAmong.all(users) : [],
      });
      const messages = new Map(messagesByIds(messageIdsOf(rows)).map((found) => [found.id, found]));
      return eventsByUser(rows, messages, readers);
    },
  };
}
