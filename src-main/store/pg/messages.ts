/** Storing messages, and reading them back by conversation (history) and by user (sync); see ../messages.ts. */
import type { ChatMessage } from '../../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../../src-shared/text.js';
import { replyQuote, type MessageRecord } from '../rows.js';
import type { Mentioned } from '../conversation.js';
import type { AsyncStore, InsertResult, NewMessage, StoredMessage } from '../types.js';
import { findMentions } from './mentions.js';
import { conversationsOf, MESSAGE_SELECT, messageOf, messagesByIds, pageOf } from './rows.js';
import { lockLog, type Sql } from './sql.js';
import { readText, storedText } from './text.js';

type MessageStore = Pick<AsyncStore, 'insertMessages' | 'messageByClientId' | 'lastMessageId' | 'history' | 'sync'>;

const DAY_MS = 86_400_000;
/** Stands in for "no upper bound" in id < $n conditions. */
export const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

export async function messageByClientId(sql: Sql, senderId: number, clientMsgId: string): Promise<ChatMessage | undefined> {
  const record = await sql.row<MessageRecord>(`${MESSAGE_SELECT} WHERE m.sender_id = $1 AND m.client_msg_id = $2`, [senderId, storedText(clientMsgId)]);
  return record && messageOf(record);
}

/**
 * `count` new ids of a sequence, ascending. Drawn under the log lock, they are above every id
 * committed so far; the rows then carry them explicitly, so their order is not left to the plan.
 */
async function nextIds(tx: Sql, sequence: 'messages_id_seq' | 'conv_events_id_seq', count: number): Promise<number[]> {
  const rows = await tx.rows<{ id: number }>('SELECT nextval($1::regclass) AS id FROM generate_series(1, $2) ORDER BY 1', [sequence, count]);
  return rows.map((row) => row.id);
}

/** Appends a message's 'message' entry to the event log (under the log lock); returns its id. */
export async function logMessage(sql: Sql, conv: string, messageId: number): Promise<number> {
  return (await sql.row<{ id: number }>(`INSERT INTO conv_events (conv, kind, message_id) VALUES ($1, 'message', $2) RETURNING id`, [conv, messageId]))!.id;
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
   * Inside insertMessages' transaction, under the log lock: looks up which (sender, clientMsgId)
   * are stored already (no other writer can store one meanwhile: they wait for the lock; the
   * unique key stays the last guard, failing the batch rather than storing a message twice), decides each message's fate in order
   * (over quota, a resend, or new) as the SQLite store does one by one, then writes the new ones
   * with one statement per table, so a batch costs a handful of round trips, not several per message.
   */
  const insertBatch = async (tx: Sql, messages: NewMessage[]): Promise<InsertResult[]> => {
    const keyOf = (senderId: number, clientMsgId: string): string => `${senderId}:${clientMsgId}`;
    const dayOf = (message: NewMessage): number => Math.floor(message.ts / DAY_MS);
    const existing = new Map(
      (
        await tx.rows<{ senderId: number; clientMsgId: string; id: number }>(
          `SELECT sender_id AS "senderId", client_msg_id AS "clientMsgId", id FROM messages
           WHERE (sender_id, client_msg_id) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))`,
          [messages.map((message) => message.senderId), messages.map((message) => storedText(message.clientMsgId))],
        )
      ).map((row) => [keyOf(row.senderId, readText(row.clientMsgId)), row.id]),
    );
    const used = new Map<string, number>();
    if (Number.isFinite(maxUserBytesPerDay)) {
      const rows = await tx.rows<{ userId: number; day: number; bytes: number }>(
        `SELECT user_id AS "userId", day, bytes FROM daily_usage WHERE (user_id, day) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))`,
        [messages.map((message) => message.senderId), messages.map(dayOf)],
      );
      for (const row of rows) used.set(`${row.userId}:${row.day}`, row.bytes);
    }

    type Fate = { overQuota: InsertResult } | { duplicateOf: string } | { insert: number };
    const fates: Fate[] = [];
    /** Index in `fresh` of each message stored by this batch, by key. */
    const inBatch = new Map<string, number>();
    const fresh: NewMessage[] = [];
    for (const message of messages) {
      const key = keyOf(message.senderId, message.clientMsgId);
      const day = dayOf(message);
      const usageKey = `${message.senderId}:${day}`;
      const bytes = Buffer.byteLength(message.text);
      const known = existing.has(key) || inBatch.has(key);
      if ((used.get(usageKey) ?? 0) + bytes > maxUserBytesPerDay) {
        fates.push(
          known
            ? { duplicateOf: key }
            : { overQuota: { overDailyQuota: { limit: maxUserBytesPerDay, retryAfterMs: (day + 1) * DAY_MS - message.ts } } },
        );
      } else if (known) {
        fates.push({ duplicateOf: key });
      } else {
        used.set(usageKey, (used.get(usageKey) ?? 0) + bytes);
        inBatch.set(key, fresh.length);
        fates.push({ insert: fresh.length });
        fresh.push(message);
      }
    }

    const built = await writeFresh(tx, fresh);
    const stored = new Map<string, ChatMessage>();
    fresh.forEach((message, index) => stored.set(keyOf(message.senderId, message.clientMsgId), built[index]!.message));
    const byId = new Map((await messagesByIds(tx, [...existing.values()])).map((message) => [message.id, message]));
    for (const [key, id] of existing) stored.set(key, byId.get(id)!);
    return fates.map((fate) => {
      if ('overQuota' in fate) return fate.overQuota;
      if ('duplicateOf' in fate) return { message: stored.get(fate.duplicateOf)!, duplicate: true };
      return built[fate.insert]!;
    });
  };

  /** Stores messages known to be new (under the log lock), in order, each with its log entry. */
  const writeFresh = async (tx: Sql, fresh: NewMessage[]): Promise<StoredMessage[]> => {
    if (fresh.length === 0) return [];
    const ids = await nextIds(tx, 'messages_id_seq', fresh.length);
    // File names are searched like the caption (docs/PROTOCOL.md §18).
    const folded = fresh.map(({ text, attachments }) => foldForSearch([text, ...(attachments ?? []).map((file) => file.name)].join('\n')));
    const column = <T>(pick: (message: NewMessage) => T): T[] => fresh.map(pick);
    await tx.run(
      `INSERT INTO messages (id, conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts, reply_to, attachments)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[],
         $9::bigint[], $10::bigint[], $11::text[])`,
      [
        ids,
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
      ],
    );
    const attached = fresh.flatMap((message, index) => (message.attachments ?? []).map((file) => ({ file: file.id, id: ids[index]!, uploader: message.senderId })));
    if (attached.length > 0) {
      // Only files of the sender's that no message carries yet (the server checked them before).
      await tx.run(
        `UPDATE files SET message_id = x.message_id FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS x (file_id, message_id, uploader_id)
         WHERE files.id = x.file_id AND files.uploader_id = x.uploader_id AND files.message_id IS NULL`,
        [attached.map((row) => row.file), attached.map((row) => row.id), attached.map((row) => row.uploader)],
      );
    }
    const usage = new Map<string, { userId: number; day: number; bytes: number }>();
    for (const message of fresh) {
      const day = Math.floor(message.ts / DAY_MS);
      const entry = usage.get(`${message.senderId}:${day}`) ?? { userId: message.senderId, day, bytes: 0 };
      entry.bytes += Buffer.byteLength(message.text);
      usage.set(`${message.senderId}:${day}`, entry);
    }
    const days = [...usage.values()];
    await tx.run(
      `INSERT INTO daily_usage (user_id, day, bytes) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
       ON CONFLICT (user_id, day) DO UPDATE SET bytes = daily_usage.bytes + excluded.bytes`,
      [days.map((entry) => entry.userId), days.map((entry) => entry.day), days.map((entry) => entry.bytes)],
    );
    const direct = fresh.filter((message) => message.toUserId !== undefined);
    if (direct.length > 0) {
      await tx.run(
        `INSERT INTO dm_partners (user_id, partner_id) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING`,
        [
          direct.flatMap((message) => [message.senderId, message.toUserId!]),
          direct.flatMap((message) => [message.toUserId!, message.senderId]),
        ],
      );
    }
    const mentioned: Mentioned[][] = [];
    for (const message of fresh) mentioned.push(await findMentions(tx, message.conv, message.text));
    const mentionRows = fresh.flatMap((message, index) => mentioned[index]!.map((user) => ({ user: user.id, conv: message.conv, id: ids[index]! })));
    if (mentionRows.length > 0) {
      await tx.run('INSERT INTO mentions (user_id, conv, message_id) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING', [
        mentionRows.map((row) => row.user),
        mentionRows.map((row) => row.conv),
        mentionRows.map((row) => row.id),
      ]);
    }
    const replyIds = fresh.flatMap((message) => (message.replyTo === undefined ? [] : [message.replyTo]));
    const originals = new Map(
      replyIds.length === 0
        ? []
        : (
            await tx.rows<{ id: number; from: string; text: string; deleted: boolean }>(
              'SELECT m.id, u.name AS "from", m.text, m.deleted FROM messages m JOIN users u ON u.id = m.sender_id WHERE m.id = ANY($1::bigint[])',
              [replyIds],
            )
          ).map((row) => [row.id, row]),
    );
    const eventIds = await nextIds(tx, 'conv_events_id_seq', fresh.length);
    await tx.run(
      `INSERT INTO conv_events (id, conv, kind, message_id) SELECT id, conv, 'message', message_id FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS x (id, conv, message_id)`,
      [eventIds, column((message) => message.conv), ids],
    );
    await namesOf(tx, fresh.flatMap((message) => (message.toUserId === undefined ? [message.senderId] : [message.senderId, message.toUserId])));
    return fresh.map((message, index): StoredMessage => {
      const { conv, senderId, toUserId, groupId, clientMsgId, text, ts, replyTo, attachments } = message;
      const answered = replyTo === undefined ? undefined : originals.get(replyTo);
      const quote = answered && replyQuote(replyTo!, answered.from, readText(answered.text), answered.deleted);
      const mentions = mentioned[index]!;
      return {
        message: {
          id: ids[index]!,
          conv,
          from: names.get(senderId)!,
          ...(toUserId !== undefined ? { to: names.get(toUserId)! } : {}),
          ...(groupId !== undefined ? { groupId } : {}),
          text,
          ts,
          clientMsgId,
          ...(quote ? { replyTo: quote } : {}),
          ...(mentions.length > 0 ? { mentions: mentions.map((user) => user.name).sort() } : {}),
          ...(attachments ? { attachments } : {}),
        },
        duplicate: false,
        eventId: eventIds[index]!,
      };
    });
  };

  const idsOf = (rows: { id: number }[]): number[] => rows.map((row) => row.id);

  return {
    /**
     * Ids must increase in commit order across every node (a client syncs by `after: id`, so a
     * message committed after another with a smaller id would be skipped): the batch takes the
     * log lock first, and only then draws its ids from the sequence. A batch pays for the lock once.
     */
    insertMessages: (messages) =>
      sql.transaction(async (tx) => {
        await lockLog(tx);
        return insertBatch(tx, messages);
      }),
    messageByClientId: (senderId, clientMsgId) => messageByClientId(sql, senderId, clientMsgId),
    lastMessageId: async () => (await sql.row<{ id: number }>('SELECT coalesce(max(id), 0) AS id FROM messages'))!.id,
    history: async (conv, before, limit) => {
      const ids = idsOf(
        await sql.rows<{ id: number }>('SELECT id FROM messages WHERE conv = $1 AND id < $2 ORDER BY id DESC LIMIT $3', [
          conv,
          before ?? NO_UPPER_BOUND,
          limit + 1,
        ]),
      );
      return pageOf(sql, ids, limit, 'oldest first');
    },
    /** One index range per conversation of the user's, merged (see the SQLite store's sync). */
    sync: async (userId, after, limit) => {
      const convs = await conversationsOf(sql, userId);
      const ids = idsOf(
        await sql.rows<{ id: number }>(
          `SELECT found.id FROM unnest($1::text[]) AS c (conv)
           CROSS JOIN LATERAL (SELECT id FROM messages WHERE conv = c.conv AND id > $2 ORDER BY id LIMIT $3) AS found
           ORDER BY found.id LIMIT $3`,
          [convs, after, limit + 1],
        ),
      );
      return pageOf(sql, ids, limit, 'oldest first');
    },
  };
}
