/** Storing messages on PostgreSQL; see ../messages.ts. */
import type { ChatMessage } from '../../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../../src-shared/fold.js';
import { newlyStored, replyQuote } from '../rows.js';
import type { AsyncStore, InsertResult, NewMessage, NotAllowed, StoredMessage } from '../types.js';
import { findMentions, type Mentioned } from '../mentions.js';
import { pgDialect } from '../dialects.js';
import { execute } from './engine.js';
import { messagesByIds } from './rows.js';
import { lockLog, type Sql } from './sql.js';
import { readText, storedText } from './text.js';
import { DAY_MS } from '../readers.js';

type MessageStore = Pick<AsyncStore, 'insertMessages'>;

const dayOf = (message: NewMessage): number => Math.floor(message.ts / DAY_MS);

interface Original {
  id: number;
  from: string;
  text: string;
  deleted: boolean;
}

interface BatchContext {
  /** Per message of the batch, whom it mentions. */
  mentioned: Mentioned[][];
  originals: Map<number, Original>;
}

interface LockedState {
  existing: { senderId: number; clientMsgId: string; id: number }[];
  usage: { userId: number; day: number; bytes: number }[];
  /** One per message of the batch, ascending; those of resends and messages over quota go unused. Each new message's id is its event id (migration 2). */
  messageIds: number[];
  /** The members of the batch's groups, and which senders are banned or declined by their DM's recipient (see NotAllowed). */
  members: { groupId: number; userId: number }[];
  banned: number[];
  declined: { senderId: number; recipientId: number }[];
}

export function messageQueries(sql: Sql, maxUserBytesPerDay = Infinity): MessageStore {
  const names = new Map<number, string>();
  /** Names of users, by id; names never change, so each is read once. */
  const namesOf = async (tx: Sql, userIds: number[]): Promise<void> => {
    const unknown = [...new Set(userIds)].filter((id) => !names.has(id));
    if (unknown.length === 0) return;
    for (const row of await tx.rows<{ id: number; name: string }>('SELECT id, name FROM users WHERE id = ANY($1::bigint[])', [unknown])) {
      names.set(row.id, row.name);
    }
  };

  /**
   * What a batch reads that decides neither ids, resends nor quotas (names, whom each text
   * mentions, the originals replied to): read before the log lock, so the lock is held for less.
   */
  const context = async (tx: Sql, messages: NewMessage[]): Promise<BatchContext> => {
    await namesOf(tx, messages.flatMap((message) => (message.toUserId === undefined ? [message.senderId] : [message.senderId, message.toUserId])));
    const mentioned: Mentioned[][] = [];
    for (const message of messages) mentioned.push(await execute(tx, findMentions(pgDialect, message.conv, message.text)));
    const replyIds = messages.flatMap((message) => (message.replyTo === undefined ? [] : [message.replyTo]));
    const originals =
      replyIds.length === 0
        ? []
        : await tx.rows<Original>(
            'SELECT m.id, u.name AS "from", m.text, m.deleted FROM messages m JOIN users u ON u.id = m.sender_id WHERE m.id = ANY($1::bigint[])',
            [replyIds],
          );
    return { mentioned, originals: new Map(originals.map((row) => [row.id, row])) };
  };

  /**
   * Under the log lock: which (sender, clientMsgId) are stored already (no other writer can store
   * one meanwhile: it waits for the lock; the unique key stays the last guard, failing the batch
   * rather than storing a message twice), the senders' usage of their days, and ids for the batch,
   * drawn from the sequences now, so above every id committed, and sorted, so in batch order.
   */
  const lockedState = async (tx: Sql, messages: NewMessage[]): Promise<LockedState> =>
    (await tx.row<LockedState>(
      `SELECT
         (SELECT coalesce(json_agg(json_build_object('senderId', sender_id, 'clientMsgId', client_msg_id, 'id', id)), '[]')
          FROM messages WHERE (sender_id, client_msg_id) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))) AS existing,
         (SELECT coalesce(json_agg(json_build_object('userId', user_id, 'day', day, 'bytes', bytes)), '[]')
          FROM daily_usage WHERE $4 AND (user_id, day) IN (SELECT * FROM unnest($1::bigint[], $3::bigint[]))) AS usage,
         to_json(array(SELECT nextval('messages_id_seq') FROM generate_series(1, $5) ORDER BY 1)) AS "messageIds",
         (SELECT coalesce(json_agg(json_build_object('groupId', group_id, 'userId', user_id) ORDER BY user_id), '[]')
          FROM group_members WHERE group_id = ANY($6::bigint[])) AS members,
         (SELECT coalesce(json_agg(u.id), '[]') FROM users u JOIN bans b ON b.kind = 'name' AND b.value = u.name_key
          WHERE u.id = ANY($1::bigint[])) AS banned,
         (SELECT coalesce(json_agg(json_build_object('senderId', r.requester_id, 'recipientId', r.user_low + r.user_high - r.requester_id)), '[]')
          FROM relations r WHERE r.state = 'declined'
            AND (r.user_low, r.user_high) IN (SELECT least(s, t), greatest(s, t) FROM unnest($1::bigint[], $7::bigint[]) AS pair (s, t) WHERE t IS NOT NULL)) AS declined`,
      [
        messages.map((message) => message.senderId),
        messages.map((message) => storedText(message.clientMsgId)),
        messages.map(dayOf),
        Number.isFinite(maxUserBytesPerDay),
        messages.length,
        [...new Set(messages.flatMap((message) => (message.groupId === undefined ? [] : [message.groupId])))],
        messages.map((message) => message.toUserId ?? null),
      ],
    ))!;

  /**
   * Decides each message's fate in order (over quota, a resend, or new) as the SQLite store does
   * one by one, then stores the new ones with their log entries, usage, DM partners, files and
   * mentions in one statement: a batch holds the lock for three round trips, whatever its size.
   * A message is its own entry in the event log (migration 2): no conv_events row.
   */
  const insertBatch = async (tx: Sql, messages: NewMessage[]): Promise<InsertResult[]> => {
    const { mentioned, originals } = await context(tx, messages);
    await lockLog(tx);
    const state = await lockedState(tx, messages);
    const keyOf = (senderId: number, clientMsgId: string): string => `${senderId}:${clientMsgId}`;
    const existing = new Map(state.existing.map((row) => [keyOf(row.senderId, readText(row.clientMsgId)), row.id]));
    const used = new Map(state.usage.map((row) => [`${row.userId}:${row.day}`, row.bytes]));

    const members = new Map<number, number[]>();
    for (const { groupId, userId } of state.members) members.set(groupId, [...(members.get(groupId) ?? []), userId]);
    const banned = new Set(state.banned);
    const declined = new Set(state.declined.map((pair) => `${pair.senderId}:${pair.recipientId}`));
    const notAllowed = ({ senderId, groupId, toUserId }: NewMessage): NotAllowed['notAllowed'] | null => {
      if (banned.has(senderId)) return 'banned';
      if (groupId !== undefined && !(members.get(groupId) ?? []).includes(senderId)) return 'group';
      if (toUserId !== undefined && declined.has(`${senderId}:${toUserId}`)) return 'declined';
      return null;
    };

    type Fate = { overQuota: InsertResult } | { duplicateOf: string } | { insert: number } | { refused: NotAllowed };
    const fates: Fate[] = [];
    /** The new messages, each with its position in `messages`, and their keys. */
    const fresh: { message: NewMessage; index: number }[] = [];
    const inBatch = new Set<string>();
    messages.forEach((message, index) => {
      const key = keyOf(message.senderId, message.clientMsgId);
      const day = dayOf(message);
      const usageKey = `${message.senderId}:${day}`;
      const bytes = Buffer.byteLength(message.text);
      const known = existing.has(key) || inBatch.has(key);
      const refused = notAllowed(message);
      if (refused) {
        fates.push(known ? { duplicateOf: key } : { refused: { notAllowed: refused } });
      } else if ((used.get(usageKey) ?? 0) + bytes > maxUserBytesPerDay) {
        fates.push(
          known
            ? { duplicateOf: key }
            : { overQuota: { overDailyQuota: { limit: maxUserBytesPerDay, retryAfterMs: (day + 1) * DAY_MS - message.ts } } },
        );
      } else if (known) {
        fates.push({ duplicateOf: key });
      } else {
        used.set(usageKey, (used.get(usageKey) ?? 0) + bytes);
        inBatch.add(key);
        fates.push({ insert: fresh.length });
        fresh.push({ message, index });
      }
    });

    const built = fresh.map(({ message, index }, position): StoredMessage => {
      const answered = message.replyTo === undefined ? undefined : originals.get(message.replyTo);
      const quote = answered && replyQuote(message.replyTo!, answered.from, readText(answered.text), answered.deleted);
      return newlyStored(state.messageIds[position]!, message, (userId) => names.get(userId)!, quote, mentioned[index]!, () => members.get(message.groupId!) ?? []);
    });
    if (fresh.length > 0) await writeFresh(tx, fresh, state, mentioned);

    const stored = new Map<string, ChatMessage>();
    fresh.forEach(({ message }, position) => stored.set(keyOf(message.senderId, message.clientMsgId), built[position]!.message));
    if (existing.size > 0) {
      const byId = new Map((await messagesByIds(tx, [...existing.values()])).map((message) => [message.id, message]));
      for (const [key, id] of existing) stored.set(key, byId.get(id)!);
    }
    return fates.map((fate) => {
      if ('overQuota' in fate) return fate.overQuota;
      if ('refused' in fate) return fate.refused;
      if ('duplicateOf' in fate) return { message: stored.get(fate.duplicateOf)!, duplicate: true };
      return built[fate.insert]!;
    });
  };

  /** The one statement that stores the new messages of a batch (under the log lock, with the ids drawn there). */
  const writeFresh = async (tx: Sql, fresh: { message: NewMessage; index: number }[], state: LockedState, mentioned: Mentioned[][]): Promise<void> => {
    const column = <T>(pick: (message: NewMessage) => T): T[] => fresh.map(({ message }) => pick(message));
    // File names are searched like the caption (docs/PROTOCOL.md §18).
    const folded = column(({ text, attachments }) => foldForSearch([text, ...(attachments ?? []).map((file) => file.name)].join('\n')));
    const files = fresh.flatMap(({ message }, position) => (message.attachments ?? []).map((file) => ({ id: file.id, position })));
    const mentions = fresh.flatMap(({ index }, position) => mentioned[index]!.map((user) => ({ id: user.id, position })));
    await tx.run(
      `WITH fresh AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[],
           $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::bigint[], $13::bigint[])
           WITH ORDINALITY AS batch (id, conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts,
             reply_to, attachments, day, bytes, position)
       ),
       stored AS (
         INSERT INTO messages (id, conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts, reply_to, attachments)
         SELECT id, conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts, reply_to, attachments FROM fresh
       ),
       counted AS (
         INSERT INTO daily_usage (user_id, day, bytes) SELECT sender_id, day, sum(bytes) FROM fresh GROUP BY sender_id, day
         ON CONFLICT (user_id, day) DO UPDATE SET bytes = daily_usage.bytes + excluded.bytes
       ),
       partners AS (
         INSERT INTO dm_partners (user_id, partner_id)
         SELECT sender_id, to_user_id FROM fresh WHERE to_user_id IS NOT NULL
         UNION SELECT to_user_id, sender_id FROM fresh WHERE to_user_id IS NOT NULL
         ON CONFLICT DO NOTHING
       ),
       -- Only files of the sender's that no message carries yet (the server checked them before).
       attached AS (
         UPDATE files SET message_id = fresh.id FROM unnest($14::text[], $15::bigint[]) AS file (id, position)
         JOIN fresh ON fresh.position = file.position
         WHERE files.id = file.id AND files.uploader_id = fresh.sender_id AND files.message_id IS NULL
       )
       INSERT INTO mentions (user_id, conv, message_id)
       SELECT mention.user_id, fresh.conv, fresh.id FROM unnest($16::bigint[], $17::bigint[]) AS mention (user_id, position)
       JOIN fresh ON fresh.position = mention.position
       ON CONFLICT DO NOTHING`,
      [
        fresh.map((_, position) => state.messageIds[position]!),
        column((message) => message.conv),
        column((message) => message.senderId),
        column((message) => message.toUserId ?? null),
        column((message) => message.groupId ?? null),
        column((message) => storedText(message.clientMsgId)),
        column((message) => storedText(message.text)),
        folded.map(storedText),
        column((message) => message.ts),
        column((message) => message.replyTo ?? null),
        column((message) => (message.attachments ? JSON.stringify(message.attachments) : null)),
        column(dayOf),
        column((message) => Buffer.byteLength(message.text)),
        files.map((file) => file.id),
        files.map((file) => file.position + 1),
        mentions.map((mention) => mention.id),
        mentions.map((mention) => mention.position + 1),
      ],
    );
  };

  return {
    /**
     * Ids must increase in commit order across every node (a client syncs by `after: id`, so a
     * message committed after another with a smaller id would be skipped): the batch takes the
     * log lock first, and only then draws its ids from the sequence. A batch pays for the lock once.
     */
    insertMessages: (messages) =>
      sql.transaction((tx) => insertBatch(tx, messages)),
  };
}
