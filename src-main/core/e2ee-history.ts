/**
 * The decrypted history of one device (issue 35 item 5): every end-to-end encrypted message this device
 * sent or opened, kept in its own SQLite file in the profile, since the host holds only ciphertext. It
 * answers history pages and searches with the host's semantics (PROTOCOL §7.9: the folded query as one
 * literal substring of the folded text, newest first, `person` = messages exchanged with that person).
 *
 * It also keeps the names this device has bound to user ids (a credential names a user by id only).
 *
 * What can read many rows (a search that matches little reads them all: 0.3 s over 100,000 messages, and the
 * unread counts) runs on a thread of its own (e2ee-history-worker.ts) with its own connection to the same
 * file, which WAL lets read beside this one's writes: the main process, which answers every App API call,
 * is never held by it. The rest are lookups by key, answered here at once.
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
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import type { E2eeMessage } from '../../src-shared/e2ee-app.js';
import type { FileSecret } from '../crypto/file-seal.js';
import { ThreadCalls, entryWorker } from '../store/typescript-worker.js';

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

function keyed(file: string, key: Uint8Array, options?: Database.Options): Database.Database {
  const db = new Database(file, options);
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
  message TEXT NOT NULL,
  mention_keys TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_conv ON messages (conv, id);
CREATE TABLE IF NOT EXISTS names (user_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS delivered (conv TEXT PRIMARY KEY, up_to INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS file_secrets (file_id TEXT PRIMARY KEY, secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unsent (seq INTEGER PRIMARY KEY AUTOINCREMENT, client_msg_id TEXT NOT NULL UNIQUE, item TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS group_members (conv TEXT PRIMARY KEY, member_keys TEXT NOT NULL);
`;

interface Row {
  message: string;
}

/** Newest first; a page of `limit` and whether more follow. */
export interface MessagePage {
  messages: E2eeMessage[];
  hasMore: boolean;
}

/** The reader thread's connection: the file as the history's own connection left it (encrypted, in WAL mode). */
export function openReader(file: string, key: Uint8Array): Database.Database {
  return keyed(file, key, { readonly: true, fileMustExist: true });
}

/**
 * The statements that may read many rows, over a connection of their own: the reader thread runs them
 * (e2ee-history-worker.ts), DeviceHistory asks them of it by name.
 */
export function historyReads(db: Database.Database) {
  const searched = db.prepare(
    `SELECT message FROM messages WHERE id < ? AND instr(folded, ?) > 0
       AND (? IS NULL OR from_key = ? OR (peer_key = ? AND conv LIKE 'dm:%'))
     ORDER BY id DESC LIMIT ?`,
  );
  const unread = db.prepare(
    `SELECT count(*) AS count FROM (SELECT 1 FROM messages WHERE conv = ? AND id > ? AND from_key <> ?
       AND json_extract(message, '$.deleted') IS NULL LIMIT ?)`,
  );
  const mentioning = db.prepare(
    `SELECT count(*) AS count FROM (SELECT 1 FROM messages WHERE conv = ? AND id > ? AND from_key <> ?
       AND instr(mention_keys, ?) > 0 LIMIT ?)`,
  );
  return {
    /**
     * Newest first, `id < before`. With `person`: what they sent, and the DMs with them; an empty query
     * then matches everything. Without `person`, an empty query finds nothing (as the host's search).
     */
    search(query: string, person: string | undefined, before: number | undefined, limit: number): MessagePage {
      const needle = foldForSearch(query.trim());
      if (needle === '' && person === undefined) return { messages: [], hasMore: false };
      const who = person === undefined ? null : nameKey(person);
      const rows = searched.all(before ?? Number.MAX_SAFE_INTEGER, needle, who, who, who, limit + 1) as Row[];
      return { messages: rows.slice(0, limit).map(parse), hasMore: rows.length > limit };
    },
    /**
     * Per conversation, the messages after its read position `after` that others sent and nobody deleted,
     * counted up to `max`: its unread count, and of those the ones that mention `me` (the host counts only
     * its plain messages).
     */
    unread(positions: readonly { conv: string; after: number }[], me: string, max: number): { unread: number; mentions: number }[] {
      const key = nameKey(me);
      const count = (statement: Database.Statement, ...args: unknown[]): number => (statement.get(...args) as { count: number }).count;
      return positions.map(({ conv, after }) => ({
        unread: count(unread, conv, after, key, max),
        mentions: count(mentioning, conv, after, key, `\n${key}\n`, max),
      }));
    },
  };
}

export type HistoryReads = ReturnType<typeof historyReads>;

/** What DeviceHistory asks of the reader thread: a read by name, or to close its connection and end. */
export type ReaderAsk = { [K in keyof HistoryReads]: { id: number; read: K; args: Parameters<HistoryReads[K]> } }[keyof HistoryReads] | { close: true };
export type ReaderReply = { id: number; value: unknown } | { id: number; error: string };

export class DeviceHistory {
  private readonly db: Database.Database;
  /**
   * The reader thread: asks in order, answered in order. Asked to close, it ends once its read under way is
   * done (terminating a thread inside a better-sqlite3 call can abort the process: store/search-pool.ts).
   */
  private reader: ThreadCalls<ReaderReply> | undefined;

  /** `key`: the profile's device store key (deviceStoreKey), 32 bytes. */
  constructor(
    private readonly file: string,
    private readonly key: Uint8Array,
  ) {
    this.db = openHistoryDatabase(file, key);
    this.db.exec(SCHEMA);
    // Kept since mentions of encrypted messages are worked out on the device; older rows mention nobody.
    const columns = this.db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('messages');
    if (!columns.includes('mention_keys')) this.db.exec("ALTER TABLE messages ADD COLUMN mention_keys TEXT NOT NULL DEFAULT ''");
  }

  /** Resolves once the reader thread, if one started, has closed its connection and ended. */
  close(): Promise<void> {
    this.db.close();
    const reader = this.reader;
    this.reader = undefined;
    return reader?.close({ close: true } satisfies ReaderAsk) ?? Promise.resolve();
  }

  /** The reader thread's id once it started (its tests check the reads leave the caller's thread). */
  get readerThreadId(): number | undefined {
    return this.reader?.thread.threadId;
  }

  /** The thread the reads of many rows run on, started at the first. */
  private async read<K extends keyof HistoryReads>(read: K, ...args: Parameters<HistoryReads[K]>): Promise<ReturnType<HistoryReads[K]>> {
    if (!this.db.open) throw new Error('the device history is closed');
    // A reader that stopped (it failed to start, say) is replaced by the next read.
    if (this.reader === undefined || this.reader.failed) {
      const thread = entryWorker('e2ee-history-worker', new URL('./e2ee-history-worker.ts', import.meta.url), { file: this.file, key: this.key });
      this.reader = new ThreadCalls(thread, "the device history's reader");
    }
    const reply = await this.reader.call((id) => ({ id, read, args }) as ReaderAsk);
    if ('error' in reply) throw new Error(reply.error);
    return reply.value as ReturnType<HistoryReads[K]>;
  }

  /** Stores a message, or its new state (an edit, a reaction). */
  put(message: E2eeMessage): void {
    // A DM's `to`: with `from`, what a search by person matches.
    const peer = message.conv.startsWith('dm:') ? (message.to ?? null) : null;
    // Its files' names are found as the host finds a plain message's (store/messages.ts).
    const searched = message.deleted ? '' : [message.text, ...(message.attachments ?? []).map((file) => file.name)].join('\n');
    this.db
      .prepare('INSERT OR REPLACE INTO messages (id, conv, from_key, peer_key, folded, message, mention_keys) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(message.id, message.conv, nameKey(message.from), peer === null ? null : nameKey(peer), foldForSearch(searched), JSON.stringify(message), mentionKeys(message));
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
  page(conv: string, before: number | undefined, limit: number): MessagePage {
    const rows = this.db
      .prepare('SELECT message FROM messages WHERE conv = ? AND id < ? ORDER BY id DESC LIMIT ?')
      .all(conv, before ?? Number.MAX_SAFE_INTEGER, limit + 1) as Row[];
    return { messages: rows.slice(0, limit).reverse().map(parse), hasMore: rows.length > limit };
  }

  /** PROTOCOL §7.9's search over this device's messages (historyReads' `search`), on the reader thread. */
  search(query: string, person: string | undefined, before: number | undefined, limit: number): Promise<MessagePage> {
    return this.read('search', query, person, before, limit);
  }

  /** The unread and mention counts of conversations at read positions (historyReads' `unread`), on the reader thread. */
  unread(positions: readonly { conv: string; after: number }[], me: string, max: number): Promise<{ unread: number; mentions: number }[]> {
    return this.read('unread', positions, me, max);
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

  /** Changes what is kept of a message to send, keeping its place. */
  rewriteUnsent(clientMsgId: string, item: string): void {
    this.db.prepare('UPDATE unsent SET item = ? WHERE client_msg_id = ?').run(item, clientMsgId);
  }

  /** The messages kept to send, in the order they were given. */
  unsent(): { clientMsgId: string; item: string }[] {
    return this.db.prepare('SELECT client_msg_id AS clientMsgId, item FROM unsent ORDER BY seq').all() as { clientMsgId: string; item: string }[];
  }

  /** Stored or refused for good: whether it was still kept. */
  forgetUnsent(clientMsgId: string): boolean {
    return this.db.prepare('DELETE FROM unsent WHERE client_msg_id = ?').run(clientMsgId).changes > 0;
  }

  /** A group's members (name keys) as this device last heard them, across runs; undefined if it never did. */
  groupMembers(conv: ConversationKey): Set<string> | undefined {
    const row = this.db.prepare('SELECT member_keys FROM group_members WHERE conv = ?').get(conv) as { member_keys: string } | undefined;
    return row && new Set(JSON.parse(row.member_keys) as string[]);
  }

  noteGroupMembers(conv: ConversationKey, memberKeys: ReadonlySet<string>): void {
    this.db.prepare('INSERT OR REPLACE INTO group_members (conv, member_keys) VALUES (?, ?)').run(conv, JSON.stringify([...memberKeys]));
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

/** Whom a message mentions, as the unread count looks them up: each name's key on a line of its own. */
const mentionKeys = (message: E2eeMessage): string => (message.mentions ?? []).map((name) => `\n${nameKey(name)}\n`).join('');

/** A ChatMessage as the device store keeps it. */
export function asE2ee(message: ChatMessage): E2eeMessage {
  return { ...message, e2ee: true };
}
