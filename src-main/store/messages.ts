/** Storing messages on SQLite. */
import { foldForSearch } from '../../src-shared/fold.js';
import { findMentions } from './mentions.js';
import type { Query } from './query.js';
import { sqliteDialect } from './dialects.js';
import { MESSAGE_SELECT, newlyStored, replyQuote, toChatMessage, type Db, type MessageRecord, type MessagesByIds } from './rows.js';
import type { Page } from '../../src-shared/protocol/objects.js';
import type { GramIndex } from './search-grams.js';
import type { InsertResult, NewMessage, NotAllowed, Store } from './types.js';
import { DAY_MS } from './readers.js';
import { storedFold } from './searched-text.js';

type MessageStore = Pick<Store, 'insertMessages'>;

/** Turns up to limit + 1 ids, in the order they were read, into a page of the first `limit`. */
export type PageOf = (ids: number[], limit: number, order: 'oldest first' | 'newest first') => Page;

export function pageReader(messagesByIds: MessagesByIds): PageOf {
  return (ids, limit, order) => {
    const messages = messagesByIds(ids.slice(0, limit));
    if (order === 'newest first') messages.reverse();
    return { messages, hasMore: ids.length > limit };
  };
}

export function messageQueries(
  db: Db,
  execute: <T>(query: Query<T>) => T,
  grams: GramIndex,
  maxUserBytesPerDay = Infinity,
): MessageStore {
  /**
   * Changes nothing when (sender, clientMsgId) is stored already. Run without
   * RETURNING: changes and lastInsertRowid say what happened, for less time; and
   * with positional parameters, which better-sqlite3 binds faster than named ones.
   */
  const insertMessage = db.prepare<
    [string, number, number | null, number | null, string, string, string, number, number | null, string | null, string | null]
  >(
    `INSERT INTO messages (conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts, reply_to, attachments, call_event)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (sender_id, client_msg_id) DO NOTHING`,
  );
  const addMention = db.prepare<[number, string, number]>('INSERT OR IGNORE INTO mentions (user_id, conv, message_id) VALUES (?, ?, ?)');
  const original = db.prepare<[number], { from: string; text: string; deleted: number }>(
    'SELECT u.name AS "from", m.text, m.deleted FROM messages m JOIN users u ON u.id = m.sender_id WHERE m.id = ?',
  );
  const recordDmPartners = db.prepare<{ sender: number; recipient: number }>(
    `INSERT OR IGNORE INTO dm_partners (user_id, partner_id)
     VALUES (@sender, @recipient), (@recipient, @sender)`,
  );
  const userName = db.prepare<[number], string>('SELECT name FROM users WHERE id = ?').pluck();
  /** Only a file of the sender's that no message carries yet (the server checked it before). */
  const attachFile = db.prepare<[number, string, number]>(
    'UPDATE files SET message_id = ? WHERE id = ? AND uploader_id = ? AND message_id IS NULL',
  );
  const messageByClientId = db.prepare<[number, string], MessageRecord>(
    `${MESSAGE_SELECT} WHERE m.sender_id = ? AND m.client_msg_id = ?`,
  );
  const usedOn = db.prepare<[number, number], number>('SELECT bytes FROM daily_usage WHERE user_id = ? AND day = ?').pluck();
  const addUsage = db.prepare<[number, number, number]>(
    `INSERT INTO daily_usage (user_id, day, bytes) VALUES (?, ?, ?)
     ON CONFLICT (user_id, day) DO UPDATE SET bytes = bytes + excluded.bytes`,
  );
  const bannedSender = db
    .prepare<[number], number>(`SELECT 1 FROM users u JOIN bans b ON b.kind = 'name' AND b.value = u.name_key WHERE u.id = ?`)
    .pluck();
  const memberIds = db.prepare<[number], number>('SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id').pluck();
  const relation = db.prepare<[number, number], { state: string; requesterId: number }>(
    'SELECT state, requester_id AS requesterId FROM relations WHERE user_low = ? AND user_high = ?',
  );

  /**
   * Direct conversations whose dm_partners rows are committed: such rows are never deleted (only users who have
   * none are), so each pair is written once in a run of the host, not at each message. Forgotten past 100,000.
   */
  const partnersWritten = new Set<string>();

  /** A user's name; names never change, so each is read once. */
  const names = new Map<number, string>();
  const nameOf = (userId: number): string => {
    let name = names.get(userId);
    if (name === undefined) {
      name = userName.get(userId)!;
      names.set(userId, name);
    }
    return name;
  };

  /** A sender's bytes of one day: stored before the batch under way (read only when there is a cap), and added by it. */
  interface DayUsage {
    userId: number;
    day: number;
    before: number;
    added: number;
  }
  /**
   * What insertOne stored in the batch under way: each message's folded text for the
   * short-needle index; each sender's day, written to daily_usage once per batch; the
   * direct conversations whose dm_partners rows this batch wrote already.
   */
  let batch = {
    folded: [] as { id: number; folded: string }[],
    usage: new Map<string, DayUsage>(),
    dmPairs: new Set<string>(),
    /** Each group's members, each sender's ban and each direct conversation's declining, read once per batch: nothing in a batch changes them. */
    members: new Map<number, number[]>(),
    banned: new Map<number, boolean>(),
    /** Of a declined direct conversation, who asked (whose messages it refuses); null when not declined. */
    declinedRequester: new Map<string, number | null>(),
  };

  const usageOf = (userId: number, day: number): DayUsage => {
    const key = `${userId}:${day}`;
    let usage = batch.usage.get(key);
    if (usage === undefined) {
      const before = Number.isFinite(maxUserBytesPerDay) ? (usedOn.get(userId, day) ?? 0) : 0;
      usage = { userId, day, before, added: 0 };
      batch.usage.set(key, usage);
    }
    return usage;
  };

  const membersOf = (groupId: number): number[] => {
    let members = batch.members.get(groupId);
    if (members === undefined) {
      members = memberIds.all(groupId);
      batch.members.set(groupId, members);
    }
    return members;
  };

  /** Why the sender may not write this message now, if they may not (see NotAllowed). */
  const notAllowed = ({ conv, senderId, toUserId, groupId }: NewMessage): NotAllowed['notAllowed'] | null => {
    let banned = batch.banned.get(senderId);
    if (banned === undefined) {
      banned = bannedSender.get(senderId) !== undefined;
      batch.banned.set(senderId, banned);
    }
    if (banned) return 'banned';
    if (groupId !== undefined && !membersOf(groupId).includes(senderId)) return 'group';
    if (toUserId !== undefined) {
      let requester = batch.declinedRequester.get(conv);
      if (requester === undefined) {
        const pair = relation.get(Math.min(senderId, toUserId), Math.max(senderId, toUserId));
        requester = pair?.state === 'declined' ? pair.requesterId : null;
        batch.declinedRequester.set(conv, requester);
      }
      if (requester === senderId) return 'declined';
    }
    return null;
  };

  /** Only within insertBatch, which adds what this stores to the short-needle index and daily_usage. */
  const insertOne = (message: NewMessage): InsertResult => {
    const { conv, senderId, toUserId, groupId, clientMsgId, text, ts, replyTo, attachments, callEvent } = message;
    const refused = notAllowed(message);
    if (refused) {
      const stored = messageByClientId.get(senderId, clientMsgId);
      return stored ? { message: toChatMessage(stored), duplicate: true } : { notAllowed: refused };
    }
    const day = Math.floor(ts / DAY_MS);
    const bytes = Buffer.byteLength(text);
    const usage = usageOf(senderId, day);
    if (usage.before + usage.added + bytes > maxUserBytesPerDay) {
      const stored = messageByClientId.get(senderId, clientMsgId);
      if (stored) return { message: toChatMessage(stored), duplicate: true };
      return { overDailyQuota: { limit: maxUserBytesPerDay, retryAfterMs: (day + 1) * DAY_MS - ts } };
    }
    // File names are searched like the caption (docs/PROTOCOL.md §18).
    const folded = foldForSearch(attachments ? [text, ...attachments.map((file) => file.name)].join('\n') : text);
    const { changes, lastInsertRowid } = insertMessage.run(
      conv,
      senderId,
      toUserId ?? null,
      groupId ?? null,
      clientMsgId,
      text,
      storedFold(text, folded),
      ts,
      replyTo ?? null,
      attachments ? JSON.stringify(attachments) : null,
      callEvent ? JSON.stringify(callEvent) : null,
    );
    if (changes === 0) return { message: toChatMessage(messageByClientId.get(senderId, clientMsgId)!), duplicate: true };
    for (const file of attachments ?? []) attachFile.run(Number(lastInsertRowid), file.id, senderId);
    usage.added += bytes;
    if (toUserId !== undefined && !batch.dmPairs.has(conv) && !partnersWritten.has(conv)) {
      recordDmPartners.run({ sender: senderId, recipient: toUserId });
      batch.dmPairs.add(conv);
    }
    const id = Number(lastInsertRowid);
    batch.folded.push({ id, folded });
    // Most messages mention nobody: no query generator for them.
    const mentioned = text.includes('@') ? execute(findMentions(sqliteDialect, conv, text)) : [];
    for (const user of mentioned) addMention.run(user.id, conv, id);
    const answered = replyTo === undefined ? undefined : original.get(replyTo);
    const quote = answered && replyQuote(replyTo!, answered.from, answered.text, answered.deleted === 1);
    // A message is its own entry in the event log (migration 014).
    return newlyStored(id, message, nameOf, quote, mentioned, () => membersOf(groupId!));
  };

  const insertBatch = db.transaction((messages: NewMessage[]): InsertResult[] => {
    batch = { folded: [], usage: new Map(), dmPairs: new Set(), members: new Map(), banned: new Map(), declinedRequester: new Map() };
    const results = messages.map(insertOne);
    for (const { userId, day, added } of batch.usage.values()) if (added > 0) addUsage.run(userId, day, added);
    grams.indexInserted(batch.folded);
    return results;
  });

  return {
    insertMessages: (messages) => {
      const results = insertBatch(messages);
      grams.committed();
      // Inside an outer transaction the rows could still be rolled back.
      if (!db.inTransaction) {
        if (partnersWritten.size > 100_000) partnersWritten.clear();
        for (const conv of batch.dmPairs) partnersWritten.add(conv);
      }
      return results;
    },
  };
}
