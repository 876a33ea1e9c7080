/**
 * The decrypted history of one device (issue 35 item 5): every end-to-end encrypted message this device
 * sent or opened, kept in its own SQLite file in the profile, since the host holds only ciphertext. It
 * answers history pages and searches with the host's semantics (PROTOCOL §7.9: the folded query as one
 * literal substring of the folded text, newest first, `person` = messages exchanged with that person).
 *
 * It also keeps the names this device has bound to user ids (a credential names a user by id only).
 *
 * At rest the file is encrypted page by page (SQLite3 Multiple Ciphers, ChaCha20-Poly1305, through
 * better-sqlite3-multiple-ciphers; docs/DEPENDENCIES.md), with the key of the profile's device stores
 * (client/e2ee-store.ts): the database, its WAL and its temporary files hold no plaintext, and a page
 * changed on disk fails to read. A history written in plain by an older app is encrypted in place.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { foldForSearch } from '../../src-shared/fold.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import type { E2eeMessage } from '../../src-shared/e2ee-app.js';
import type { FileSecret } from '../crypto/file-seal.js';

/** The key as SQLite3 Multiple Ciphers takes raw key bytes: no passphrase derivation, as it is random already. */
const rawKey = (key: Uint8Array): string => `"x'${Buffer.from(key).toString('hex')}'"`;

/** Whether the database's pages can be read as it is keyed now (SQLITE_NOTADB when not). */
function readable(db: Database.Database): boolean {
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_NOTADB') return false;
    throw error;
  }
}

function keyed(file: string, key: Uint8Array): Database.Database {
  const db = new Database(file);
  db.pragma("cipher = 'chacha20'");
  db.pragma(`key = ${rawKey(key)}`);
  return db;
}

/** Encrypts a plain history of an older app in place; false when the file is not a plain database either. */
function encryptPlain(file: string, key: Uint8Array): boolean {
  const db = new Database(file);
  try {
    if (!readable(db)) return false;
    // Rekeying rewrites every page, which SQLite3 Multiple Ciphers does outside WAL mode only.
    db.pragma('journal_mode = DELETE');
    db.pragma("cipher = 'chacha20'");
    db.pragma(`rekey = ${rawKey(key)}`);
    return true;
  } finally {
    db.close();
  }
}

/** Opens (or creates) the history database, encrypted with the device key; a file it cannot decrypt is refused, saying so. */
export function openHistoryDatabase(file: string, key: Uint8Array): Database.Database {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let db = keyed(file, key);
  if (!readable(db)) {
    db.close();
    if (!encryptPlain(file, key)) throw new Error(`${file} could not be decrypted: it was saved with another key, or it was changed`);
    db = keyed(file, key);
  }
  db.pragma('journal_mode = WAL');
  return db;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY,
  conv TEXT NOT NULL,
  from_key TEXT NOT NULL,
  peer_key TEXT,
  folded TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conv ON messages (conv, id);
CREATE TABLE IF NOT EXISTS names (user_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS delivered (conv TEXT PRIMARY KEY, up_to INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS file_secrets (file_id TEXT PRIMARY KEY, secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unsent (seq INTEGER PRIMARY KEY AUTOINCREMENT, client_msg_id TEXT NOT NULL UNIQUE, item TEXT NOT NULL);
`;

interface Row {
  message: string;
}

export class DeviceHistory {
  private readonly db: Database.Database;

  /** `key`: the profile's device store key (deviceStoreKey), 32 bytes. */
  constructor(file: string, key: Uint8Array) {
    this.db = openHistoryDatabase(file, key);
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** Stores a message, or its new state (an edit, a reaction). */
  put(message: E2eeMessage): void {
    // A DM's `to`: with `from`, what a search by person matches.
    const peer = message.conv.startsWith('dm:') ? (message.to ?? null) : null;
    // Its files' names are found as the host finds a plain message's (store/messages.ts).
    const searched = message.deleted ? '' : [message.text, ...(message.attachments ?? []).map((file) => file.name)].join('\n');
    this.db
      .prepare('INSERT OR REPLACE INTO messages (id, conv, from_key, peer_key, folded, message) VALUES (?, ?, ?, ?, ?, ?)')
      .run(message.id, message.conv, nameKey(message.from), peer === null ? null : nameKey(peer), foldForSearch(searched), JSON.stringify(message));
  }

  /** Stores many in one transaction (one write to disk, not one per message). */
  putAll(messages: readonly E2eeMessage[]): void {
    this.db.transaction(() => {
      for (const message of messages) this.put(message);
    })();
  }

  get(id: number): E2eeMessage | undefined {
    const row = this.db.prepare('SELECT message FROM messages WHERE id = ?').get(id) as Row | undefined;
    return row && (JSON.parse(row.message) as E2eeMessage);
  }

  /** The conversation's messages before `before` (all when undefined), oldest first, at most `limit`. */
  page(conv: string, before: number | undefined, limit: number): { messages: E2eeMessage[]; hasMore: boolean } {
    const rows = this.db
      .prepare('SELECT message FROM messages WHERE conv = ? AND id < ? ORDER BY id DESC LIMIT ?')
      .all(conv, before ?? Number.MAX_SAFE_INTEGER, limit + 1) as Row[];
    return { messages: rows.slice(0, limit).reverse().map(parse), hasMore: rows.length > limit };
  }

  /**
   * Newest first, `id < before`. With `person`: what they sent, and the DMs with them; an empty query
   * then matches everything. Without `person`, an empty query finds nothing (as the host's search).
   */
  search(query: string, person: string | undefined, before: number | undefined, limit: number): { messages: E2eeMessage[]; hasMore: boolean } {
    const needle = foldForSearch(query.trim());
    if (needle === '' && person === undefined) return { messages: [], hasMore: false };
    const who = person === undefined ? null : nameKey(person);
    const rows = this.db
      .prepare(
        `SELECT message FROM messages WHERE id < ? AND instr(folded, ?) > 0
           AND (? IS NULL OR from_key = ? OR (peer_key = ? AND conv LIKE 'dm:%'))
         ORDER BY id DESC LIMIT ?`,
      )
      .all(before ?? Number.MAX_SAFE_INTEGER, needle, who, who, who, limit + 1) as Row[];
    return { messages: rows.slice(0, limit).map(parse), hasMore: rows.length > limit };
  }

  /**
   * The messages after `after` that others sent and nobody deleted, counted up to `max`: the unread count
   * of a conversation whose read position is `after` (the host counts only its plain messages).
   */
  unreadAfter(conv: string, after: number, me: string, max: number): number {
    const found = this.db
      .prepare(
        `SELECT count(*) AS count FROM (SELECT 1 FROM messages WHERE conv = ? AND id > ? AND from_key <> ?
           AND json_extract(message, '$.deleted') IS NULL LIMIT ?)`,
      )
      .get(conv, after, nameKey(me), max) as { count: number };
    return found.count;
  }

  /** The sender's messages in `conv` up to `upTo` reached another reader (kept: the host remembers only plain ones). */
  noteDelivered(conv: string, upTo: number): void {
    this.db
      .prepare('INSERT INTO delivered (conv, up_to) VALUES (?, ?) ON CONFLICT (conv) DO UPDATE SET up_to = max(up_to, excluded.up_to)')
      .run(conv, upTo);
  }

  deliveredUpTo(conv: string): number {
    return (this.db.prepare('SELECT up_to AS upTo FROM delivered WHERE conv = ?').get(conv) as { upTo: number } | undefined)?.upTo ?? 0;
  }

  /** Keeps the key, IV and digest of an encrypted message's file (PROTOCOL §20.12), by the host's file id; the first one kept stays. */
  putFileSecret(fileId: string, secret: FileSecret): void {
    this.db.prepare('INSERT OR IGNORE INTO file_secrets (file_id, secret) VALUES (?, ?)').run(fileId, JSON.stringify(secret));
  }

  fileSecret(fileId: string): FileSecret | undefined {
    const row = this.db.prepare('SELECT secret FROM file_secrets WHERE file_id = ?').get(fileId) as { secret: string } | undefined;
    return row && (JSON.parse(row.secret) as FileSecret);
  }

  forgetFileSecret(fileId: string): void {
    this.db.prepare('DELETE FROM file_secrets WHERE file_id = ?').run(fileId);
  }

  /** Keeps a message to send (e2ee-outbox.ts: JSON it reads back) until forgotten, after those kept before it. */
  keepUnsent(clientMsgId: string, item: string): void {
    this.db.prepare('INSERT OR IGNORE INTO unsent (client_msg_id, item) VALUES (?, ?)').run(clientMsgId, item);
  }

  /** The messages kept to send, in the order they were given. */
  unsent(): { clientMsgId: string; item: string }[] {
    return this.db.prepare('SELECT client_msg_id AS clientMsgId, item FROM unsent ORDER BY seq').all() as { clientMsgId: string; item: string }[];
  }

  /** Stored or refused for good: whether it was still kept. */
  forgetUnsent(clientMsgId: string): boolean {
    return this.db.prepare('DELETE FROM unsent WHERE client_msg_id = ?').run(clientMsgId).changes > 0;
  }

  /** The name bound to a user id, if this device has bound one. */
  nameOf(userId: number): string | undefined {
    return (this.db.prepare('SELECT name FROM names WHERE user_id = ?').get(userId) as { name: string } | undefined)?.name;
  }

  /** Binds a name to a user id the first time only: a later claim of another name for the id is not believed. */
  bindName(userId: number, name: string): string {
    this.db.prepare('INSERT OR IGNORE INTO names (user_id, name) VALUES (?, ?)').run(userId, name);
    return this.nameOf(userId)!;
  }

  /** The user id bound to a name, if any. */
  idOf(name: string): number | undefined {
    const rows = this.db.prepare('SELECT user_id, name FROM names').all() as { user_id: number; name: string }[];
    return rows.find((row) => nameKey(row.name) === nameKey(name))?.user_id;
  }
}

const parse = (row: Row): E2eeMessage => JSON.parse(row.message) as E2eeMessage;

/** A ChatMessage as the device store keeps it. */
export function asE2ee(message: ChatMessage): E2eeMessage {
  return { ...message, e2ee: true };
}
