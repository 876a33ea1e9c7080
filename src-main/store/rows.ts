/** SQL pieces and row shapes that more than one feature of the store uses. */
import Database from 'better-sqlite3';
import type { Attachment, ChatMessage } from '../../src-shared/protocol/objects.js';
import { StoreConflictError } from './types.js';

export type Db = Database.Database;

/** Stands in for "no upper bound" in id < ? conditions. */
export const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

export const USER_COLUMNS = `id, name, name_key AS nameKey, skeleton, password_hash AS passwordHash,
  created_at AS createdAt, last_seen AS lastSeen, status`;

export interface MessageRecord {
  id: number;
  conv: string;
  from: string;
  to: string | null;
  groupId: number | null;
  text: string;
  ts: number;
  clientMsgId: string;
  /** JSON array of the message's attachments, or null. */
  attachments: string | null;
}

export const MESSAGE_SELECT = `
  SELECT m.id, m.conv, sender.name AS "from", recipient.name AS "to", m.group_id AS groupId,
    m.text, m.ts, m.client_msg_id AS clientMsgId, m.attachments
  FROM messages m
  JOIN users sender ON sender.id = m.sender_id
  LEFT JOIN users recipient ON recipient.id = m.to_user_id`;

export function toChatMessage(record: MessageRecord): ChatMessage {
  const { to, groupId, attachments, ...common } = record;
  return {
    ...common,
    ...(to !== null ? { to } : {}),
    ...(groupId !== null ? { groupId } : {}),
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
 * The row of an INSERT ... RETURNING outside a transaction, which must be read
 * with all(), never get(): the commit happens only when the statement runs to
 * its end, and get() stops at the row and drops an error from that commit
 * (a full disk), returning a row that was never stored.
 */
export function onlyRow<Row>(rows: Row[]): Row {
  return rows[0]!;
}

/** Runs `write`, turning a UNIQUE or PRIMARY KEY violation into a StoreConflictError with `message`. */
export function unlessTaken<T>(message: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    const taken = error instanceof Database.SqliteError && /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(error.code);
    if (taken) {
      throw new StoreConflictError(message, { cause: error });
    }
    throw error;
  }
}
