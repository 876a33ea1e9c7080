/** SQL pieces and row shapes that more than one feature of the store uses. */
import Database from 'better-sqlite3-multiple-ciphers';
import { quote } from '../../src-shared/message-changes.js';
import type { Attachment, CallEvent, ChatMessage, GroupEvent } from '../../src-shared/protocol/objects.js';
import { sqliteDialect } from './dialects.js';
import type { Mentioned } from './mentions.js';
import type { Dialect } from './query.js';
import type { NewMessage, StoredMessage } from './types.js';

export type Db = Database.Database;

/** Stands in for "no upper bound" in id < ? conditions. */
export const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

export interface MessageRecord {
  id: number;
  conv: string;
  from: string;
  to: string | null;
  groupId: number | null;
  text: string;
  ts: number;
  clientMsgId: string;
  replyTo: number | null;
  replyFrom: string | null;
  replyText: string | null;
  replyDeleted: number | null;
  editedAt: number | null;
  deleted: number;
  /** JSON: [{emoji, users}], "[]" when none. */
  reactions: string;
  /** JSON: [name], "[]" when none. */
  mentions: string;
  /** JSON of a membership line's GroupEvent; null for messages people wrote. */
  groupEvent: string | null;
  /** JSON of a call line's CallEvent; null for every other message. */
  callEvent: string | null;
  /** JSON array of the message's attachments, or null. */
  attachments: string | null;
}

/**
 * A message as the protocol shows it, with its reply quote read from the original
 * and its reactions and mentions (JSON as text, booleans as 0/1), each a lookup by index (a page holds at most 200).
 */
export function messageSelect(d: Dialect): string {
  return `
  SELECT m.id, m.conv, sender.name AS "from", recipient.name AS "to", m.group_id AS "groupId",
    m.text, m.ts, m.client_msg_id AS "clientMsgId", m.attachments,
    m.reply_to AS "replyTo", reply_sender.name AS "replyFrom", original.text AS "replyText",
    CASE WHEN original.deleted THEN 1 ELSE 0 END AS "replyDeleted", m.edited_at AS "editedAt", CASE WHEN m.deleted THEN 1 ELSE 0 END AS deleted,
    (SELECT ${d.jsonArray(`${d.jsonObject}('emoji', emoji, 'users', ${d.json('users')})`, 'first')} FROM (
       SELECT r.emoji, ${d.jsonArray('reactor.name', 'r.id')} AS users, min(r.id) AS first
       FROM reactions r JOIN users reactor ON reactor.id = r.user_id
       WHERE r.message_id = m.id GROUP BY r.emoji) AS grouped) AS reactions,
    (SELECT ${d.jsonArray('mentioned.name', 'mentioned.name')}
       FROM mentions mn JOIN users mentioned ON mentioned.id = mn.user_id WHERE mn.message_id = m.id) AS mentions,
    m.group_event AS "groupEvent", m.call_event AS "callEvent"
  FROM messages m
  JOIN users sender ON sender.id = m.sender_id
  LEFT JOIN users recipient ON recipient.id = m.to_user_id
  LEFT JOIN messages original ON original.id = m.reply_to
  LEFT JOIN users reply_sender ON reply_sender.id = original.sender_id`;
}

/** SQLite's: the message read on the hot path, prepared once. */
export const MESSAGE_SELECT = messageSelect(sqliteDialect);

/** How many messages messageReader keeps: after a restart every client's catch-up reads the same few hundred. */
const CACHED_MESSAGES = 4096;

/** The messages of those ids that exist, in id order. */
export type MessagesByIds = (ids: readonly number[]) => ChatMessage[];

/**
 * Reads messages by id through MESSAGE_SELECT, keeping the last CACHED_MESSAGES read. A kept message
 * is never stale: this connection's own TEMP triggers (not part of the schema) drop it whenever its
 * row, its reactions or its mentions change, and its replies with it, since they quote it. The host
 * holds its data folder alone (data-folder.ts), so every write goes through this connection. A message
 * is kept only when read outside a transaction, so none holds what a rollback undoes. Kept messages
 * are frozen: every caller gets the same object.
 */
export function messageReader(db: Db): MessagesByIds {
  const select = db.prepare<[string], MessageRecord>(`${MESSAGE_SELECT} WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY m.id`);
  const kept = new Map<number, ChatMessage>();
  /** The kept replies of each message, dropped with it. */
  const replies = new Map<number, Set<number>>();
  // A message's kept replies go with it whether or not it is kept itself: they quote it.
  const forget = (id: number): void => {
    const message = kept.get(id);
    if (message !== undefined) {
      kept.delete(id);
      const siblings = message.replyTo ? replies.get(message.replyTo.id) : undefined;
      siblings?.delete(id);
      if (siblings?.size === 0) replies.delete(message.replyTo!.id);
    }
    const own = replies.get(id);
    replies.delete(id);
    for (const reply of own ?? []) forget(reply);
  };
  db.function('lanchat_message_changed', { deterministic: false }, (id) => {
    forget(Number(id));
    return null;
  });
  db.exec(`
    CREATE TEMP TRIGGER IF NOT EXISTS cached_message_updated AFTER UPDATE ON main.messages BEGIN SELECT lanchat_message_changed(old.id); END;
    CREATE TEMP TRIGGER IF NOT EXISTS cached_message_deleted AFTER DELETE ON main.messages BEGIN SELECT lanchat_message_changed(old.id); END;
    CREATE TEMP TRIGGER IF NOT EXISTS cached_reaction_added AFTER INSERT ON main.reactions BEGIN SELECT lanchat_message_changed(new.message_id); END;
    CREATE TEMP TRIGGER IF NOT EXISTS cached_reaction_removed AFTER DELETE ON main.reactions BEGIN SELECT lanchat_message_changed(old.message_id); END;
    CREATE TEMP TRIGGER IF NOT EXISTS cached_mention_added AFTER INSERT ON main.mentions BEGIN SELECT lanchat_message_changed(new.message_id); END;
    CREATE TEMP TRIGGER IF NOT EXISTS cached_mention_removed AFTER DELETE ON main.mentions BEGIN SELECT lanchat_message_changed(old.message_id); END;
  `);
  const keep = (message: ChatMessage): void => {
    if (kept.size >= CACHED_MESSAGES) forget(kept.keys().next().value!);
    kept.set(message.id, deepFreeze(message));
    if (!message.replyTo) return;
    let set = replies.get(message.replyTo.id);
    if (!set) replies.set(message.replyTo.id, (set = new Set()));
    set.add(message.id);
  };
  return (ids) => {
    const found = new Map<number, ChatMessage>();
    const missing: number[] = [];
    for (const id of ids) {
      const message = kept.get(id);
      if (message === undefined) {
        missing.push(id);
        continue;
      }
      found.set(id, message);
      // The most recently read are kept longest.
      kept.delete(id);
      kept.set(id, message);
    }
    if (missing.length > 0) {
      for (const message of select.all(JSON.stringify(missing)).map(toChatMessage)) {
        found.set(message.id, message);
        if (!db.inTransaction) keep(message);
      }
    }
    return [...found.values()].sort((a, b) => a.id - b.id);
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const part of Object.values(value)) deepFreeze(part);
    Object.freeze(value);
  }
  return value;
}

/** What a reply shows of its original (undefined when the original is gone altogether, as with its group). */
export function replyQuote(
  id: number,
  from: string | null,
  text: string | null,
  deleted: boolean,
): ChatMessage['replyTo'] {
  return from === null || text === null ? undefined : quote(id, from, text, deleted);
}

export function toChatMessage(record: MessageRecord): ChatMessage {
  const { to, groupId, replyTo, replyFrom, replyText, replyDeleted, editedAt, deleted, reactions, mentions, groupEvent, callEvent, attachments, ...common } = record;
  const quote = replyTo === null ? undefined : replyQuote(replyTo, replyFrom, replyText, replyDeleted === 1);
  const reacted = JSON.parse(reactions) as NonNullable<ChatMessage['reactions']>;
  const mentioned = JSON.parse(mentions) as string[];
  return {
    ...common,
    ...(to !== null ? { to } : {}),
    ...(groupId !== null ? { groupId } : {}),
    ...(quote ? { replyTo: quote } : {}),
    ...(editedAt !== null ? { editedAt } : {}),
    ...(deleted === 1 ? { deleted: true as const } : {}),
    ...(reacted.length > 0 ? { reactions: reacted } : {}),
    ...(mentioned.length > 0 ? { mentions: mentioned } : {}),
    ...(groupEvent !== null ? { groupEvent: JSON.parse(groupEvent) as GroupEvent } : {}),
    ...(callEvent !== null ? { callEvent: JSON.parse(callEvent) as CallEvent } : {}),
    ...(attachments !== null ? { attachments: JSON.parse(attachments) as Attachment[] } : {}),
  };
}

/**
 * Whether message m may be seen by user @me: the room, direct messages the user
 * sent or received, and groups the user is a member of now. sync reaches the
 * same set through the user's conversation keys (conversationsOf).
 */
export const VISIBLE_TO_ME = `(
  m.conv = 'room'
  OR (m.to_user_id IS NOT NULL AND @me IN (m.sender_id, m.to_user_id))
  OR (m.group_id IS NOT NULL
      AND EXISTS (SELECT 1 FROM group_members g WHERE g.group_id = m.group_id AND g.user_id = @me))
)`;

/**
 * A message stored now (not a resend), as both engines answer it: from what was sent, with its id
 * (its event id too), its people's names, what it quotes, whom it mentions and, in a group, its readers.
 */
export function newlyStored(
  id: number,
  message: NewMessage,
  nameOf: (userId: number) => string,
  quote: ChatMessage['replyTo'],
  mentioned: readonly Mentioned[],
  readers: () => number[],
): StoredMessage {
  const { conv, senderId, toUserId, groupId, clientMsgId, text, ts, attachments, callEvent } = message;
  // Assigned, not spread: spreading the optional fields cost about 1 µs a message (a micro-benchmark of the two). Same key order.
  const stored: ChatMessage = { id, conv, from: nameOf(senderId) } as ChatMessage;
  if (toUserId !== undefined) stored.to = nameOf(toUserId);
  if (groupId !== undefined) stored.groupId = groupId;
  stored.text = text;
  stored.ts = ts;
  stored.clientMsgId = clientMsgId;
  if (quote) stored.replyTo = quote;
  if (mentioned.length > 0) stored.mentions = mentioned.map((user) => user.name).sort();
  if (attachments) stored.attachments = attachments;
  if (callEvent) stored.callEvent = callEvent;
  const result: StoredMessage = { message: stored, duplicate: false, eventId: id };
  if (groupId !== undefined) result.readers = readers();
  return result;
}
