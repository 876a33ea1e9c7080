/**
 * The store: SQLite through better-sqlite3. Every statement is prepared once
 * when the store opens; every public call runs synchronously and has committed
 * when it returns.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { dmConversation, groupConversation, ROOM, type ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage, Page } from '../../src-shared/protocol/objects.js';
import { foldForSearch } from '../../src-shared/text.js';
import { APPLICATION_ID, LATEST_VERSION, migrate, schemaVersion } from './migrations.js';
import {
  StoreConflictError,
  type GroupRow,
  type InsertResult,
  type NewMessage,
  type RelationRow,
  type RelationState,
  type SearchOptions,
  type AccessStore,
  type BanKind,
  type BanRow,
  type ServerStore,
  type SessionStore,
  type Store,
  type UserRow,
  type UserStatus,
} from './types.js';

/** The database file cannot be used: not a database, damaged, from a newer version, or unreadable. */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

/** How long opening waits for another program's write lock before giving up. */
const OPEN_LOCK_WAIT_MS = 2000;

/** Stands in for "no upper bound" in id < ? conditions. */
const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

export interface StoreOptions {
  /** Caps the database file (a quota); a write beyond it fails with SQLITE_FULL, as on a full disk. */
  maxBytes?: number;
}

/**
 * Opens (creating if needed) the database in `file` and brings its schema up to date.
 *
 * No integrity check runs here: PRAGMA quick_check reads the whole file, which
 * takes seconds on a large history. A damaged header or schema is still caught
 * here; damage deeper in the file surfaces as an error from the call that meets it.
 */
export function openStore(file: string, options: StoreOptions = {}): ServerStore {
  mkdirSync(dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw openError(file, error);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${OPEN_LOCK_WAIT_MS}`);
    // Checkpoints (WAL copied into the database, with an fsync) every 64 MB of log
    // instead of every 4 MB: a busy host spends far fewer of its commits waiting on them.
    db.pragma('wal_autocheckpoint = 16384');
    checkOwnership(db, file);
    migrate(db);
    // Fails now, with a clear reason, rather than at the first message, if another program holds the write lock.
    db.exec('BEGIN IMMEDIATE; COMMIT');
    db.pragma('busy_timeout = 5000');
    if (options.maxBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`);
    }
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw openError(file, error);
  }
}

/** Refuses other applications' databases and databases written by a newer LanChat. */
function checkOwnership(db: Database.Database, file: string): void {
  const version = schemaVersion(db);
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const empty = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() === 0;
  if (version === 0 && applicationId === 0 && empty) return;
  if (applicationId !== APPLICATION_ID) {
    throw new StoreOpenError(`"${file}" is a database of another application, not a LanChat database`);
  }
  if (version > LATEST_VERSION) {
    throw new StoreOpenError(
      `"${file}" was written by a newer version of LanChat (schema ${version}; this version knows up to ${LATEST_VERSION}). ` +
        'Update LanChat to open it.',
    );
  }
}

function openError(file: string, error: unknown): Error {
  if (error instanceof StoreOpenError) return error;
  if (!(error instanceof Database.SqliteError)) return error instanceof Error ? error : new Error(String(error));
  const damaged = error.code === 'SQLITE_NOTADB' || error.code.startsWith('SQLITE_CORRUPT');
  const locked = error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED');
  const message = damaged
    ? `"${file}" is not a LanChat database or is damaged: ${error.message}`
    : locked
      ? `the database "${file}" is locked by another program (is another LanChat host using this folder?): ${error.message}`
      : `cannot open the database "${file}": ${error.message}`;
  return new StoreOpenError(message, { cause: error });
}

function isUniqueViolation(error: unknown): error is InstanceType<typeof Database.SqliteError> {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * FTS5 query for the messages holding every trigram of the needle (the index
 * keeps no positions, so the caller confirms the substring with instr).
 * Each trigram is a quoted string with inner quotes doubled, so operators and
 * syntax in user input (OR, NEAR(, *, -, ^, :) stay plain text.
 * Returns undefined below three characters (code points, not UTF-16 units):
 * the trigram index cannot look those up.
 */
function trigramQuery(needle: string): string | undefined {
  const characters = [...needle];
  if (characters.length < 3) return undefined;
  const trigrams = new Set<string>();
  for (let start = 0; start + 3 <= characters.length; start++) {
    trigrams.add(characters.slice(start, start + 3).join(''));
  }
  return [...trigrams].map((trigram) => `"${trigram.replaceAll('"', '""')}"`).join(' AND ');
}

interface MessageRecord {
  id: number;
  conv: string;
  from: string;
  to: string | null;
  groupId: number | null;
  text: string;
  ts: number;
  clientMsgId: string;
}

function toChatMessage(record: MessageRecord): ChatMessage {
  const { to, groupId, ...common } = record;
  return { ...common, ...(to !== null ? { to } : {}), ...(groupId !== null ? { groupId } : {}) };
}

const USER_COLUMNS = `id, name, name_key AS nameKey, skeleton, password_hash AS passwordHash,
  created_at AS createdAt, last_seen AS lastSeen, status`;
const GROUP_COLUMNS = 'id, name, name_key AS nameKey, owner_id AS ownerId, created_at AS createdAt';
const RELATION_COLUMNS = 'user_low AS userLow, user_high AS userHigh, state, requester_id AS requesterId, since';
const MESSAGE_SELECT = `
  SELECT m.id, m.conv, sender.name AS "from", recipient.name AS "to", m.group_id AS groupId,
    m.text, m.ts, m.client_msg_id AS clientMsgId
  FROM messages m
  JOIN users sender ON sender.id = m.sender_id
  LEFT JOIN users recipient ON recipient.id = m.to_user_id`;

/**
 * Whether message m may be seen by user @me: the room, direct messages the user
 * sent or received, and groups the user is a member of now. sync reaches the
 * same set through the user's conversation keys (conversationsOf).
 */
const VISIBLE_TO_ME = `(
  m.conv = 'room'
  OR (m.to_user_id IS NOT NULL AND @me IN (m.sender_id, m.to_user_id))
  OR (m.group_id IS NOT NULL
      AND EXISTS (SELECT 1 FROM group_members g WHERE g.group_id = m.group_id AND g.user_id = @me))
)`;

function prepareStatements(db: Database.Database) {
  return {
    insertUser: db.prepare<
      { name: string; nameKey: string; skeleton: string; passwordHash: string; createdAt: number; status: UserStatus },
      UserRow
    >(`INSERT INTO users (name, name_key, skeleton, password_hash, created_at, status)
       VALUES (@name, @nameKey, @skeleton, @passwordHash, @createdAt, @status)
       RETURNING ${USER_COLUMNS}`),
    userById: db.prepare<[number], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    userByKey: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name_key = ?`),
    userBySkeleton: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE skeleton = ?`),
    listUsers: db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE status = 'active' ORDER BY name_key`),
    setLastSeen: db.prepare<[number, number]>('UPDATE users SET last_seen = ? WHERE id = ?'),

    createSession: db.prepare<[string, number, number]>(
      'INSERT INTO sessions (token_hash, user_id, created_at) VALUES (?, ?, ?)',
    ),
    sessionUserId: db.prepare<[string], number>('SELECT user_id FROM sessions WHERE token_hash = ?').pluck(),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE token_hash = ?'),
    deliveredCursor: db.prepare<[number], number>('SELECT delivered_up_to FROM users WHERE id = ?').pluck(),
    setDeliveredCursor: db.prepare<[number, number]>('UPDATE users SET delivered_up_to = ? WHERE id = ?'),

    /**
     * Changes nothing when (sender, clientMsgId) is stored already. Run without
     * RETURNING: changes and lastInsertRowid say what happened, for less time.
     */
    insertMessage: db.prepare<{
      conv: string;
      senderId: number;
      toUserId: number | null;
      groupId: number | null;
      clientMsgId: string;
      text: string;
      folded: string;
      ts: number;
    }>(
      `INSERT INTO messages (conv, sender_id, to_user_id, group_id, client_msg_id, text, folded, ts)
       VALUES (@conv, @senderId, @toUserId, @groupId, @clientMsgId, @text, @folded, @ts)
       ON CONFLICT (sender_id, client_msg_id) DO NOTHING`,
    ),
    /** Adds messages with id > ? to the search index: one statement per batch (see migration 002). */
    indexMessagesAfter: db.prepare<[number]>(
      'INSERT INTO message_search (rowid, folded) SELECT id, folded FROM messages WHERE id > ?',
    ),
    recordDmPartners: db.prepare<{ sender: number; recipient: number }>(
      `INSERT OR IGNORE INTO dm_partners (user_id, partner_id)
       VALUES (@sender, @recipient), (@recipient, @sender)`,
    ),
    userName: db.prepare<[number], string>('SELECT name FROM users WHERE id = ?').pluck(),
    messageByClientId: db.prepare<[number, string], MessageRecord>(
      `${MESSAGE_SELECT} WHERE m.sender_id = ? AND m.client_msg_id = ?`,
    ),
    /** Ids as a JSON array; one statement serves any number of ids. */
    messagesByIds: db.prepare<[string], MessageRecord>(
      `${MESSAGE_SELECT} WHERE m.id IN (SELECT value FROM json_each(?)) ORDER BY m.id`,
    ),
    lastMessageId: db.prepare<[], number>('SELECT coalesce(max(id), 0) FROM messages').pluck(),
    conversationIdsBefore: db
      .prepare<[string, number, number], number>(
        'SELECT id FROM messages WHERE conv = ? AND id < ? ORDER BY id DESC LIMIT ?',
      )
      .pluck(),
    conversationIdsBetween: db
      .prepare<[string, number, number, number], number>(
        'SELECT id FROM messages WHERE conv = ? AND id > ? AND id < ? ORDER BY id LIMIT ?',
      )
      .pluck(),
    dmPartners: db.prepare<[number], number>('SELECT partner_id FROM dm_partners WHERE user_id = ?').pluck(),
    memberGroupIds: db.prepare<[number], number>('SELECT group_id FROM group_members WHERE user_id = ?').pluck(),

    // Search: each returns up to @limit ids, newest first.
    searchByTrigrams: db
      .prepare<{ me: number; trigrams: string; needle: string; before: number; limit: number }, number>(
        // CROSS JOIN keeps the full-text index as the outer loop, read newest first.
        `SELECT m.id FROM message_search f CROSS JOIN messages m ON m.id = f.rowid
         WHERE message_search MATCH @trigrams AND f.rowid < @before
           AND instr(m.folded, @needle) > 0 AND ${VISIBLE_TO_ME}
         ORDER BY f.rowid DESC LIMIT @limit`,
      )
      .pluck(),
    /** Short needles: walks messages newest first and stops at @limit, as most messages match. */
    searchByScan: db
      .prepare<{ me: number; needle: string; before: number; limit: number }, number>(
        `SELECT m.id FROM messages m
         WHERE m.id < @before AND instr(m.folded, @needle) > 0 AND ${VISIBLE_TO_ME}
         ORDER BY m.id DESC LIMIT @limit`,
      )
      .pluck(),
    /**
     * With a person: reads only the person's messages (through the
     * (sender_id, client_msg_id) index) and the rest of our direct conversation,
     * i.e. mine to them (messages_by_conv), whatever the needle. One person's
     * share of all messages is small, so this beats walking the trigram index's
     * matches for everyone. instr(folded, '') is 1: an empty needle keeps all.
     */
    searchWithPerson: db
      .prepare<{ me: number; needle: string; person: number; dmConv: string; before: number; limit: number }, number>(
        `SELECT m.id FROM messages m
         WHERE m.sender_id = @person AND m.id < @before AND instr(m.folded, @needle) > 0 AND ${VISIBLE_TO_ME}
         UNION ALL
         SELECT m.id FROM messages m
         WHERE m.conv = @dmConv AND m.sender_id <> @person AND m.id < @before AND instr(m.folded, @needle) > 0
         ORDER BY 1 DESC LIMIT @limit`,
      )
      .pluck(),

    relation: db.prepare<[number, number], RelationRow>(
      `SELECT ${RELATION_COLUMNS} FROM relations WHERE user_low = ? AND user_high = ?`,
    ),
    setRelation: db.prepare<
      { userLow: number; userHigh: number; state: RelationState; requesterId: number; since: number },
      RelationRow
    >(
      `INSERT INTO relations (user_low, user_high, state, requester_id, since)
       VALUES (@userLow, @userHigh, @state, @requesterId, @since)
       ON CONFLICT (user_low, user_high) DO UPDATE
         SET state = excluded.state, requester_id = excluded.requester_id, since = excluded.since
       RETURNING ${RELATION_COLUMNS}`,
    ),
    deleteRelation: db.prepare<[number, number]>('DELETE FROM relations WHERE user_low = ? AND user_high = ?'),
    relationsOf: db.prepare<{ user: number }, RelationRow>(
      `SELECT ${RELATION_COLUMNS} FROM relations WHERE user_low = @user OR user_high = @user
       ORDER BY user_low, user_high`,
    ),

    insertGroup: db.prepare<[string, string, number, number], GroupRow>(
      `INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES (?, ?, ?, ?) RETURNING ${GROUP_COLUMNS}`,
    ),
    groupById: db.prepare<[number], GroupRow>(`SELECT ${GROUP_COLUMNS} FROM chat_groups WHERE id = ?`),
    groupByKey: db.prepare<[string], GroupRow>(`SELECT ${GROUP_COLUMNS} FROM chat_groups WHERE name_key = ?`),
    renameGroup: db.prepare<[string, string, number]>('UPDATE chat_groups SET name = ?, name_key = ? WHERE id = ?'),
    unindexConversation: db.prepare<[string]>(
      `INSERT INTO message_search (message_search, rowid, folded)
       SELECT 'delete', id, folded FROM messages WHERE conv = ?`,
    ),
    deleteConversation: db.prepare<[string]>('DELETE FROM messages WHERE conv = ?'),
    deleteGroup: db.prepare<[number]>('DELETE FROM chat_groups WHERE id = ?'),
    addMember: db.prepare<[number, number]>('INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?, ?)'),
    removeMember: db.prepare<[number, number]>('DELETE FROM group_members WHERE group_id = ? AND user_id = ?'),
    isMember: db
      .prepare<[number, number], number>('SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?')
      .pluck(),
    memberIds: db
      .prepare<[number], number>('SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id')
      .pluck(),
    groupsOf: db.prepare<[number], GroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM chat_groups
       WHERE id IN (SELECT group_id FROM group_members WHERE user_id = ?)
       ORDER BY name_key, id`,
    ),
  };
}

function prepareAccessStatements(db: Database.Database) {
  return {
    pendingUsers: db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE status = 'pending' ORDER BY created_at, id`),
    approveUser: db.prepare<[number]>("UPDATE users SET status = 'active' WHERE id = ?"),
    deletePendingUser: db.prepare<[number]>("DELETE FROM users WHERE id = ? AND status = 'pending'"),
    setPasswordHash: db.prepare<[string, number]>('UPDATE users SET password_hash = ? WHERE id = ?'),
    deleteSessionsOf: db.prepare<[number, string]>('DELETE FROM sessions WHERE user_id = ? AND token_hash != ?'),
    addBan: db.prepare<[BanKind, string, number]>('INSERT OR IGNORE INTO bans (kind, value, created_at) VALUES (?, ?, ?)'),
    removeBan: db.prepare<[BanKind, string]>('DELETE FROM bans WHERE kind = ? AND value = ?'),
    isBanned: db.prepare<[BanKind, string], number>('SELECT 1 FROM bans WHERE kind = ? AND value = ?').pluck(),
    bans: db.prepare<[], BanRow>('SELECT kind, value, created_at AS createdAt FROM bans ORDER BY kind, value'),
    roomSetting: db.prepare<[string], string>('SELECT value FROM room_settings WHERE key = ?').pluck(),
    setRoomSetting: db.prepare<[string, string]>(
      'INSERT INTO room_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    groupsOwnedCount: db.prepare<[number], number>('SELECT count(*) FROM chat_groups WHERE owner_id = ?').pluck(),
  };
}

class SqliteStore implements Store, SessionStore, AccessStore {
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly access: ReturnType<typeof prepareAccessStatements>;
  private readonly names = new Map<number, string>();
  private readonly insertBatch: (messages: NewMessage[]) => InsertResult[];
  private readonly createGroupWithOwner: (name: string, nameKey: string, ownerId: number, createdAt: number) => GroupRow;
  private readonly deleteGroupAndMessages: (id: number) => void;

  constructor(private readonly db: Database.Database) {
    this.sql = prepareStatements(db);
    this.access = prepareAccessStatements(db);
    this.insertBatch = db.transaction((messages: NewMessage[]) => {
      const lastBefore = this.lastMessageId();
      const results = messages.map((message) => this.insertOne(message));
      this.sql.indexMessagesAfter.run(lastBefore);
      return results;
    });
    this.createGroupWithOwner = db.transaction((name: string, nameKey: string, ownerId: number, createdAt: number) => {
      const group = this.sql.insertGroup.get(name, nameKey, ownerId, createdAt)!;
      this.sql.addMember.run(group.id, ownerId);
      return group;
    });
    this.deleteGroupAndMessages = db.transaction((id: number) => {
      this.sql.unindexConversation.run(groupConversation(id));
      this.sql.deleteConversation.run(groupConversation(id));
      this.sql.deleteGroup.run(id);
    });
  }

  close(): void {
    this.db.close();
  }

  // ------------------------------------------------------------ users and sessions

  createUser(user: Omit<UserRow, 'id' | 'lastSeen' | 'status'> & { status?: UserStatus }): UserRow {
    try {
      return this.sql.insertUser.get({ ...user, status: user.status ?? 'active' })!;
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new StoreConflictError(`the name "${user.name}" is taken or too close to an existing one`, { cause: error });
      }
      throw error;
    }
  }

  userById(id: number): UserRow | undefined {
    return this.sql.userById.get(id);
  }

  userByKey(nameKey: string): UserRow | undefined {
    return this.sql.userByKey.get(nameKey);
  }

  userBySkeleton(skeleton: string): UserRow | undefined {
    return this.sql.userBySkeleton.get(skeleton);
  }

  listUsers(): UserRow[] {
    return this.sql.listUsers.all();
  }

  setLastSeen(userId: number, ts: number): void {
    this.sql.setLastSeen.run(ts, userId);
  }

  createSession(tokenHash: string, userId: number, createdAt: number): void {
    this.sql.createSession.run(tokenHash, userId, createdAt);
  }

  sessionUserId(tokenHash: string): number | undefined {
    return this.sql.sessionUserId.get(tokenHash);
  }

  deleteSession(tokenHash: string): void {
    this.sql.deleteSession.run(tokenHash);
  }

  deliveredCursor(userId: number): number {
    return this.sql.deliveredCursor.get(userId) ?? 0;
  }

  setDeliveredCursor(userId: number, messageId: number): void {
    this.sql.setDeliveredCursor.run(messageId, userId);
  }

  // ------------------------------------------------------------ messages

  insertMessage(message: NewMessage): InsertResult {
    return this.insertBatch([message])[0]!;
  }

  messageByClientId(senderId: number, clientMsgId: string): ChatMessage | undefined {
    const stored = this.sql.messageByClientId.get(senderId, clientMsgId);
    return stored && toChatMessage(stored);
  }

  insertMessages(messages: NewMessage[]): InsertResult[] {
    return this.insertBatch(messages);
  }

  /** Only within insertBatch, which adds what this stores to the search index. */
  private insertOne(message: NewMessage): InsertResult {
    const { conv, senderId, toUserId, groupId, clientMsgId, text, ts } = message;
    const { changes, lastInsertRowid } = this.sql.insertMessage.run({
      conv,
      senderId,
      toUserId: toUserId ?? null,
      groupId: groupId ?? null,
      clientMsgId,
      text,
      folded: foldForSearch(text),
      ts,
    });
    if (changes === 0) {
      const stored = this.sql.messageByClientId.get(senderId, clientMsgId)!;
      return { message: toChatMessage(stored), duplicate: true };
    }
    if (toUserId !== undefined) this.sql.recordDmPartners.run({ sender: senderId, recipient: toUserId });
    const stored: ChatMessage = {
      id: Number(lastInsertRowid),
      conv,
      from: this.nameOf(senderId),
      ...(toUserId !== undefined ? { to: this.nameOf(toUserId) } : {}),
      ...(groupId !== undefined ? { groupId } : {}),
      text,
      ts,
      clientMsgId,
    };
    return { message: stored, duplicate: false };
  }

  /** A user's name; names never change, so each is read once. */
  private nameOf(userId: number): string {
    let name = this.names.get(userId);
    if (name === undefined) {
      name = this.sql.userName.get(userId)!;
      this.names.set(userId, name);
    }
    return name;
  }

  lastMessageId(): number {
    return this.sql.lastMessageId.get()!;
  }

  history(conv: ConversationKey, before: number | undefined, limit: number): Page {
    const newestFirst = this.sql.conversationIdsBefore.all(conv, before ?? NO_UPPER_BOUND, limit + 1);
    return this.page(newestFirst, limit, 'oldest first');
  }

  /**
   * Reads each of the user's conversations through messages_by_conv instead of
   * filtering all messages. Once limit + 1 candidates are known, later
   * conversations are read only below the highest of them, so a user in many
   * quiet conversations costs one short index probe per conversation.
   */
  sync(userId: number, after: number, limit: number): Page {
    const wanted = limit + 1;
    let candidates: number[] = [];
    let below = NO_UPPER_BOUND;
    for (const conv of this.conversationsOf(userId)) {
      const ids = this.sql.conversationIdsBetween.all(conv, after, below, wanted);
      if (ids.length === 0) continue;
      candidates = [...candidates, ...ids].sort((a, b) => a - b).slice(0, wanted);
      if (candidates.length === wanted) below = candidates[wanted - 1]!;
    }
    return this.page(candidates, limit, 'oldest first');
  }

  /** The room first: usually the busiest, it narrows the search in the others soonest. */
  private conversationsOf(userId: number): ConversationKey[] {
    return [
      ROOM,
      ...this.sql.dmPartners.all(userId).map((partnerId) => dmConversation(userId, partnerId)),
      ...this.sql.memberGroupIds.all(userId).map(groupConversation),
    ];
  }

  /**
   * The query is folded like stored text and matched as one literal substring:
   * "good morning" finds messages holding exactly that phrase, not the two words
   * apart. Without a person, three characters or more go through the trigram
   * index and shorter ones scan messages newest first.
   */
  search(userId: number, options: SearchOptions): Page {
    const { personId, limit } = options;
    const needle = foldForSearch(options.query).trim();
    const common = { me: userId, needle, before: options.before ?? NO_UPPER_BOUND, limit: limit + 1 };
    let newestFirst: number[];
    if (personId !== undefined) {
      const dmConv = dmConversation(userId, personId);
      newestFirst = this.sql.searchWithPerson.all({ ...common, person: personId, dmConv });
    } else if (needle === '') {
      return { messages: [], hasMore: false };
    } else {
      const trigrams = trigramQuery(needle);
      newestFirst = trigrams
        ? this.sql.searchByTrigrams.all({ ...common, trigrams })
        : this.sql.searchByScan.all(common);
    }
    return this.page(newestFirst, limit, 'newest first');
  }

  /** Turns up to limit + 1 ids, in the order they were searched, into a page of the first `limit`. */
  private page(ids: number[], limit: number, order: 'oldest first' | 'newest first'): Page {
    const kept = ids.slice(0, limit);
    const messages = this.sql.messagesByIds.all(JSON.stringify(kept)).map(toChatMessage);
    if (order === 'newest first') messages.reverse();
    return { messages, hasMore: ids.length > limit };
  }

  // ------------------------------------------------------------ relations

  relation(userA: number, userB: number): RelationRow | undefined {
    return this.sql.relation.get(Math.min(userA, userB), Math.max(userA, userB));
  }

  setRelation(userA: number, userB: number, state: RelationState, requesterId: number, since: number): RelationRow {
    const userLow = Math.min(userA, userB);
    const userHigh = Math.max(userA, userB);
    return this.sql.setRelation.get({ userLow, userHigh, state, requesterId, since })!;
  }

  deleteRelation(userA: number, userB: number): void {
    this.sql.deleteRelation.run(Math.min(userA, userB), Math.max(userA, userB));
  }

  relationsOf(userId: number): RelationRow[] {
    return this.sql.relationsOf.all({ user: userId });
  }

  // ------------------------------------------------------------ groups

  createGroup(name: string, nameKey: string, ownerId: number, createdAt: number): GroupRow {
    try {
      return this.createGroupWithOwner(name, nameKey, ownerId, createdAt);
    } catch (error) {
      if (isUniqueViolation(error)) throw groupNameTaken(name, error);
      throw error;
    }
  }

  groupById(id: number): GroupRow | undefined {
    return this.sql.groupById.get(id);
  }

  groupByKey(nameKey: string): GroupRow | undefined {
    return this.sql.groupByKey.get(nameKey);
  }

  renameGroup(id: number, name: string, nameKey: string): void {
    try {
      this.sql.renameGroup.run(name, nameKey, id);
    } catch (error) {
      if (isUniqueViolation(error)) throw groupNameTaken(name, error);
      throw error;
    }
  }

  deleteGroup(id: number): void {
    this.deleteGroupAndMessages(id);
  }

  addMember(groupId: number, userId: number): void {
    this.sql.addMember.run(groupId, userId);
  }

  removeMember(groupId: number, userId: number): void {
    this.sql.removeMember.run(groupId, userId);
  }

  isMember(groupId: number, userId: number): boolean {
    return this.sql.isMember.get(groupId, userId) !== undefined;
  }

  memberIds(groupId: number): number[] {
    return this.sql.memberIds.all(groupId);
  }

  groupsOf(userId: number): GroupRow[] {
    return this.sql.groupsOf.all(userId);
  }

  // ------------------------------------------------------------ access

  pendingUsers(): UserRow[] {
    return this.access.pendingUsers.all();
  }

  approveUser(userId: number): void {
    this.access.approveUser.run(userId);
  }

  deletePendingUser(userId: number): void {
    this.access.deletePendingUser.run(userId);
  }

  setPasswordHash(userId: number, passwordHash: string): void {
    this.access.setPasswordHash.run(passwordHash, userId);
  }

  deleteSessionsOf(userId: number, keepTokenHash = ''): void {
    this.access.deleteSessionsOf.run(userId, keepTokenHash);
  }

  addBan(kind: BanKind, value: string, createdAt: number): void {
    this.access.addBan.run(kind, value, createdAt);
  }

  removeBan(kind: BanKind, value: string): boolean {
    return this.access.removeBan.run(kind, value).changes > 0;
  }

  isBanned(kind: BanKind, value: string): boolean {
    return this.access.isBanned.get(kind, value) !== undefined;
  }

  bans(): BanRow[] {
    return this.access.bans.all();
  }

  roomSetting(key: string): string | undefined {
    return this.access.roomSetting.get(key);
  }

  setRoomSetting(key: string, value: string): void {
    this.access.setRoomSetting.run(key, value);
  }

  groupsOwnedCount(userId: number): number {
    return this.access.groupsOwnedCount.get(userId) ?? 0;
  }
}

function groupNameTaken(name: string, cause: Error): StoreConflictError {
  return new StoreConflictError(`a group named "${name}" already exists`, { cause });
}
