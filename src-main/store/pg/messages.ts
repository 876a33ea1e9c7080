/** Storing messages, and reading them back by conversation (history) and by user (sync); see ../messages.ts. */
import type { ChatMessage } from '../../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../../src-shared/text.js';
import { replyQuote, type MessageRecord } from '../rows.js';
import type { AsyncStore, InsertResult, NewMessage } from '../types.js';
import { findMentions } from './mentions.js';
import { conversationsOf, MESSAGE_SELECT, messageOf, pageOf } from './rows.js';
import { lockLog, type Sql } from './sql.js';
import { readText, storedText } from './text.js';

type MessageStore = Pick<AsyncStore, 'insertMessages' | 'messageByClientId' | 'lastMessageId' | 'history' | 'sync'>;

const DAY_MS = 86_400_000;
/** Stands in for "no upper bound" in id < $n conditions. */
export const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

export async function messageByClientId(sql: Sql, senderId: number, clientMsgId: string): Promise<ChatMessage | undefined> {
  const record = await sql.row<MessageRecord>(`${MESSAGE_SELECT} WHERE m.sender_id = $1 AND m.client_msg_id = $2`, [senderId, clientMsgId]);
  return record && messageOf(record);
}

/** Appends a message's 'message' entry to the event log (under the log lock); returns its id. */
export async function logMessage(sql: Sql, conv: string, messageId: number): Promise<number> {
  return (await sql.row<{ id: number }>(`INSERT INTO conv_events (conv, kind, message_id) VALUES ($1, 'message', $2) RETURNING id`, [conv, messageId]))!.id;
}

export function messageQueries(sql: Sql, maxUserBytesPerDay = Infinity): MessageStore {
  /** A user's name; names never change, so each is read once. */
  const names = new Map<number, string>();
  const nameOf = async (tx: Sql, userId: number): Promise<string> => {
    let name = names.get(userId);
    if (name === undefined) {
      name = (await tx.row<{ name: string }>('SELECT name FROM users WHERE id = $1', [userId]))!.name;
      names.set(userId, name);
    }
    return name;
  };

  /** Inside insertMessages' transaction, under the log lock. */
  const insertOne = async (tx: Sql, message: NewMessage): Promise<InsertResult> => {
    const { conv, senderId, toUserId, groupId, clientMsgId, text, ts, replyTo, attachments } = message;
    const day = Math.floor(ts / DAY_MS);
    const bytes = Buffer.byteLength(text);
    const used = (await tx.row<{ bytes: number }>('SELECT bytes FROM daily_usage WHERE user_id = $1 AND day = $2', [senderId, day]))?.bytes ?? 0;
    if (used + bytes > maxUserBytesPerDay) {
      const stored = await messageByClientId(tx, senderId, clientMsgId);
      if (stored) return { message: stored, duplicate: true };
      return { overDailyQuota: { limit: maxUserBytesPerDay, retryAfterMs: (day + 1) * DAY_MS - ts } };
    }
    // File names are searched like the caption (docs/PROTOCOL.md §18).
    const folded = foldForSearch([text, ...(attachments ?? []).map((file) => file.name)].join('\n'));
    const inserted = await tx.row<{ id: number }>(
      `INSERT INTO messages (conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts, reply_to, attachments)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (sender_id, client_msg_id) DO NOTHING RETURNING id`,
      [
        conv,
        senderId,
        toUserId ?? null,
        groupId ?? null,
        clientMsgId,
        storedText(text),
        storedText(folded),
        ts,
        replyTo ?? null,
        attachments ? JSON.stringify(attachments) : null,
      ],
    );
    if (!inserted) return { message: (await messageByClientId(tx, senderId, clientMsgId))!, duplicate: true };
    const { id } = inserted;
    if (attachments && attachments.length > 0) {
      // Only files of the sender's that no message carries yet (the server checked them before).
      await tx.run('UPDATE files SET message_id = $1 WHERE id = ANY($2::text[]) AND uploader_id = $3 AND message_id IS NULL', [
        id,
        attachments.map((file) => file.id),
        senderId,
      ]);
    }
    await tx.run(
      `INSERT INTO daily_usage (user_id, day, bytes) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, day) DO UPDATE SET bytes = daily_usage.bytes + excluded.bytes`,
      [senderId, day, bytes],
    );
    if (toUserId !== undefined) {
      await tx.run('INSERT INTO dm_partners (user_id, partner_id) VALUES ($1, $2), ($2, $1) ON CONFLICT DO NOTHING', [senderId, toUserId]);
    }
    const mentioned = await findMentions(tx, conv, text);
    if (mentioned.length > 0) {
      await tx.run('INSERT INTO mentions (user_id, conv, message_id) SELECT unnest($1::bigint[]), $2, $3 ON CONFLICT DO NOTHING', [
        mentioned.map((user) => user.id),
        conv,
        id,
      ]);
    }
    const answered =
      replyTo === undefined
        ? undefined
        : await tx.row<{ from: string; text: string; deleted: boolean }>(
            'SELECT u.name AS "from", m.text, m.deleted FROM messages m JOIN users u ON u.id = m.sender_id WHERE m.id = $1',
            [replyTo],
          );
    const quote = answered && replyQuote(replyTo!, answered.from, readText(answered.text), answered.deleted);
    const eventId = await logMessage(tx, conv, id);
    const stored: ChatMessage = {
      id,
      conv,
      from: await nameOf(tx, senderId),
      ...(toUserId !== undefined ? { to: await nameOf(tx, toUserId) } : {}),
      ...(groupId !== undefined ? { groupId } : {}),
      text,
      ts,
      clientMsgId,
      ...(quote ? { replyTo: quote } : {}),
      ...(mentioned.length > 0 ? { mentions: mentioned.map((user) => user.name).sort() } : {}),
      ...(attachments ? { attachments } : {}),
    };
    return { message: stored, duplicate: false, eventId };
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
        const results: InsertResult[] = [];
        for (const message of messages) results.push(await insertOne(tx, message));
        return results;
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
