/** The PostgreSQL store's message read (rows.ts's select, its texts unescaped), pages, and the user's conversations. */
import type { ChatMessage, Page } from '../../../src-shared/protocol/objects.js';
import { pgDialect } from '../dialects.js';
import { messageSelect, toChatMessage, type MessageRecord } from '../rows.js';
import type { Sql } from './sql.js';
import { readText } from './text.js';

const MESSAGE_SELECT = messageSelect(pgDialect);

/** Whether message m may be seen by user $1 (see the SQLite store's VISIBLE_TO_ME). */
export const VISIBLE_TO_ME = `(
  m.conv = 'room'
  OR (m.to_user_id IS NOT NULL AND $1 IN (m.sender_id, m.to_user_id))
  OR (m.group_id IS NOT NULL
      AND EXISTS (SELECT 1 FROM group_members g WHERE g.group_id = m.group_id AND g.user_id = $1))
)`;

/** A message as read by MESSAGE_SELECT, its text and client id as written (text.ts). */
export function messageOf(record: MessageRecord): ChatMessage {
  const { text, replyText, clientMsgId } = record;
  return toChatMessage({ ...record, text: readText(text), replyText: replyText === null ? null : readText(replyText), clientMsgId: readText(clientMsgId) });
}

/** The messages of those ids that exist, by id. */
export async function messagesByIds(sql: Sql, ids: number[]): Promise<ChatMessage[]> {
  if (ids.length === 0) return [];
  const records = await sql.rows<MessageRecord>(`${MESSAGE_SELECT} WHERE m.id = ANY($1::bigint[]) ORDER BY m.id`, [ids]);
  return records.map(messageOf);
}

export async function messageById(sql: Sql, id: number): Promise<ChatMessage | undefined> {
  const record = await sql.row<MessageRecord>(`${MESSAGE_SELECT} WHERE m.id = $1`, [id]);
  return record && messageOf(record);
}

/**
 * A page in one statement: the messages whose ids `idsQuery` selects (up to limit + 1 of them,
 * the next page's first included to tell whether there is one), keeping the `limit` nearest the
 * reader's starting point: the newest when paging backwards, the oldest when paging forwards.
 */
export async function pageOf(
  sql: Pick<Sql, 'rows'>,
  idsQuery: string,
  values: unknown[],
  limit: number,
  keep: 'newest' | 'oldest',
  order: 'oldest first' | 'newest first',
): Promise<Page> {
  const records = await sql.rows<MessageRecord>(`${MESSAGE_SELECT} WHERE m.id IN (${idsQuery}) ORDER BY m.id`, values);
  const messages = records.map(messageOf);
  const kept = limit === 0 ? [] : keep === 'newest' ? messages.slice(-limit) : messages.slice(0, limit);
  if (order === 'newest first') kept.reverse();
  return { messages: kept, hasMore: messages.length > limit };
}
