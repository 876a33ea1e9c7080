/**
 * What the server needs from storage. ServerStore is SQLite's, through better-sqlite3 (store.ts): all
 * calls but search are synchronous, and a call that returns has committed. The server calls AsyncStore
 * (below): SQLite through async-store.ts, or PostgreSQL (pg/).
 */
import type { Attachment, CallEvent, ChatMessage, GroupEvent, Page } from '../../src-shared/protocol/objects.js';
import type { FileStore } from './files.js';
import type { MlsStore } from './mls.js';
import type { ConversationStore } from './conversation.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';

/** A user seen at `ts` (logging in or out) and, going offline, delivered up to a message id (0: unchanged). */
export interface LastSeen {
  userId: number;
  ts: number;
  deliveredUpTo: number;
}

export interface UserRow {
  id: number;
  /** Canonical (NFC) display name, as first registered. */
  name: string;
  /** nameKey(name): case-insensitive identity, unique. */
  nameKey: string;
  /** nameSkeleton(name): what the name looks like, unique. */
  skeleton: string;
  /** scrypt hash string (see server/password.ts); never the password. */
  passwordHash: string;
  createdAt: number;
  lastSeen: number | null;
  /** 'pending' accounts wait for the host's approval and cannot log in. */
  status: UserStatus;
}

export type UserStatus = 'active' | 'pending';

export interface NewMessage {
  conv: ConversationKey;
  senderId: number;
  clientMsgId: string;
  text: string;
  ts: number;
  /** Recipient, for direct messages. */
  toUserId?: number;
  /** Group, for group messages. */
  groupId?: number;
  /** The message of the same conversation this one answers. */
  replyTo?: number;
  /** Uploaded files of the sender's, not attached yet, that this message carries (docs/PROTOCOL.md §18). */
  attachments?: Attachment[];
  /** A call line (docs/PROTOCOL.md §21.5): stored by the host, never sent by a client. */
  callEvent?: CallEvent;
}

export type InsertResult = StoredMessage | OverDailyQuota | NotAllowed;

export interface StoredMessage {
  message: ChatMessage;
  /** True when (senderId, clientMsgId) was already stored: the stored message is returned unchanged. */
  duplicate: boolean;
  /** The message's entry in the event log (not for a duplicate). */
  eventId?: number;
  /** A group message stored now: the group's members as the batch committed, the users it goes to. */
  readers?: number[];
}

/**
 * Not stored: as the batch committed, the sender could no longer write there, whatever the server
 * checked before. `group`: not a member of the group (removed, left, or the group deleted);
 * `declined`: the recipient of a direct message declined the sender's chat; `banned`: the sender's name is banned.
 */
export interface NotAllowed {
  notAllowed: 'group' | 'declined' | 'banned';
}

/** Not stored: the sender's messages of this UTC day would pass the store's maxUserBytesPerDay. */
export interface OverDailyQuota {
  overDailyQuota: {
    /** The most bytes of message text (UTF-8) a user may store per UTC day. */
    limit: number;
    /** Until the next UTC day begins. */
    retryAfterMs: number;
  };
}

export type RelationState = 'pending' | 'accepted' | 'declined';

export interface RelationRow {
  /** The two users, smaller id first. */
  userLow: number;
  userHigh: number;
  state: RelationState;
  /** Who asked (pending), or whose request was answered (accepted/declined). */
  requesterId: number;
  since: number;
}

export interface GroupRow {
  id: number;
  name: string;
  nameKey: string;
  ownerId: number;
  createdAt: number;
}

/** pending: waiting for the invitee's answer. declined: they declined it or left the group; it cannot be renewed. */
export type InvitationState = 'pending' | 'declined';

export interface InvitationRow {
  groupId: number;
  userId: number;
  inviterId: number;
  state: InvitationState;
  since: number;
}

/** A membership line to store in a group's history: `actorId` did `event` (docs/PROTOCOL.md §6.4.1). */
export interface NewGroupEvent {
  groupId: number;
  actorId: number;
  event: GroupEvent;
  /** What it says in English, for clients that do not read `event`. */
  text: string;
}

/** A membership line as stored, with its entry in the conversation event log. */
export interface StoredLine {
  message: ChatMessage;
  eventId: number;
}

export interface SearchOptions {
  /** Raw query text; folded by the store with foldForSearch. Empty means "every message" (with personId). */
  query: string;
  /** Only messages exchanged with this user: sent by them where the searcher can see it, or DMs between the two. */
  personId?: number;
  /** Only messages with id < before (paging backwards). */
  before?: number;
  limit: number;
  /** Stops the search (it rejects with the signal's reason), e.g. when the asking connection closes. */
  signal?: AbortSignal;
}

export interface Store {
  /** Closes the database; resolves once the store's own threads (search, indexing, checkpoints) have ended. */
  close(): Promise<void>;

  /** status defaults to 'active'. */
  createUser(user: Omit<UserRow, 'id' | 'lastSeen' | 'status'> & { status?: UserStatus }): UserRow;
  userById(id: number): UserRow | undefined;
  userByKey(nameKey: string): UserRow | undefined;
  userBySkeleton(skeleton: string): UserRow | undefined;
  /** Active accounts only. */
  listUsers(): UserRow[];
  /**
   * Each user's last-seen time, and their delivered cursor raised to `deliveredUpTo` where that is
   * higher, all in one transaction (a stop takes every user offline at once). A user listed twice
   * keeps the last time listed and the highest cursor.
   */
  setLastSeen(seen: readonly LastSeen[]): void;

  /** The message a sender already stored under that client id, if any. */
  messageByClientId(senderId: number, clientMsgId: string): ChatMessage | undefined;
  /**
   * Stores many in one transaction; results in the same order. A message whose (senderId, clientMsgId) is
   * stored already is returned as stored. Not stored: a message over its sender's daily quota, and one its
   * sender may no longer write as the transaction runs (NotAllowed): who may write is decided here, not before.
   */
  insertMessages(messages: NewMessage[]): InsertResult[];
  /** Newest page of a conversation before `before` (exclusive), returned oldest first. */
  history(conv: ConversationKey, before: number | undefined, limit: number): Page;
  /** Messages the user may see with id > after, oldest first (room, their DMs, groups they are in now). */
  sync(userId: number, after: number, limit: number): Page;
  /** Highest message id stored, 0 when none. */
  lastMessageId(): number;
  /** Messages the user may see that match, newest first. Runs on a worker thread (search-pool.ts), never on the caller's. */
  search(userId: number, options: SearchOptions): Promise<Page>;

  relation(userA: number, userB: number): RelationRow | undefined;
  setRelation(userA: number, userB: number, state: RelationState, requesterId: number, since: number): RelationRow;
  deleteRelation(userA: number, userB: number): void;
  relationsOf(userId: number): RelationRow[];

  /** Throws StoreConflictError when the name key is taken. */
  createGroup(name: string, nameKey: string, ownerId: number, createdAt: number): GroupRow;
  groupById(id: number): GroupRow | undefined;
  /** Throws StoreConflictError when the name key is taken by another group. */
  renameGroup(id: number, name: string, nameKey: string): void;
  /** Removes the group, its members and its messages. */
  deleteGroup(id: number): void;
  addMember(groupId: number, userId: number): void;
  removeMember(groupId: number, userId: number): void;
  isMember(groupId: number, userId: number): boolean;
  /** Member user ids, owner included. */
  memberIds(groupId: number): number[];
  /** Everyone who shares a group with the user, the user not included. */
  coMemberIds(userId: number): number[];
  groupsOf(userId: number): GroupRow[];

  /** The user's invitation to the group, pending or declined. */
  invitation(groupId: number, userId: number): InvitationRow | undefined;
  /** Pending invitations of the user, oldest first. */
  invitationsOf(userId: number): InvitationRow[];
  /** Users with a pending invitation to the group. */
  invitedIds(groupId: number): number[];
  /** Removes an invitation, pending or declined. */
  deleteInvitation(groupId: number, userId: number): void;
  /**
   * Runs `change` (store calls) and stores the membership lines it returns in their groups'
   * histories, all in one transaction; returns the lines as stored, in order. A `change` that
   * throws stores nothing.
   */
  changeGroups<T>(ts: number, change: () => { result: T; events: NewGroupEvent[] }): { result: T; lines: StoredLine[] };
  /** Invites the user (again, if the invitation was pending or absent). */
  invite(groupId: number, userId: number, inviterId: number, since: number): void;
  /** Marks the user's invitation declined (creating it if needed): they cannot be invited to the group again. */
  declineInvitation(groupId: number, userId: number, inviterId: number, since: number): void;
}

export class StoreConflictError extends Error {
  override name = 'StoreConflictError';
}

/** Sessions (login tokens, stored only as SHA-256) and each user's delivery cursor. */
export interface SessionStore {
  createSession(tokenHash: string, userId: number, createdAt: number): void;
  sessionUserId(tokenHash: string): number | undefined;
  deleteSession(tokenHash: string): void;
  /** Highest message id sent to the user when they last went offline (0 if never). */
  deliveredCursor(userId: number): number;
  /** The highest delivered cursor of any active account but this one (0 if none). */
  othersDeliveredCursor(userId: number): number;
  setDeliveredCursor(userId: number, messageId: number): void;
}

/**
 * Accounts that never wrote: no message sent, no direct message received, no group owned or
 * joined. The host may purge them (registration storms leave thousands).
 */
export interface SilentAccountStore {
  /** Up to `limit` of them with id > afterId and created at or before createdBefore, by id. */
  silentAccounts(afterId: number, createdBefore: number, limit: number): UserRow[];
  /**
   * Deletes those of the given accounts that still never wrote, with their sessions, relations
   * and name skeletons, in one transaction; returns the ids deleted.
   */
  deleteSilentAccounts(userIds: readonly number[]): number[];
}

/** A ban as stored; the host panel shows the row itself (the App API's HostBan). */
export interface BanRow {
  kind: 'name' | 'address';
  /** A name key for 'name' (lower-cased), an address as the server sees it for 'address'. */
  value: string;
  createdAt: number;
}
export type BanKind = BanRow['kind'];

/** Room access: pending accounts, password changes, bans, room settings and limits. */
export interface AccessStore {
  pendingUsers(): UserRow[];
  approveUser(userId: number): void;
  /** Deletes an account that never logged in (a rejected pending one). */
  deletePendingUser(userId: number): void;
  setPasswordHash(userId: number, passwordHash: string): void;
  /** Ends every session of the user but the one with keepTokenHash. */
  deleteSessionsOf(userId: number, keepTokenHash?: string): void;
  addBan(kind: BanKind, value: string, createdAt: number): void;
  /** Returns whether there was such a ban. */
  removeBan(kind: BanKind, value: string): boolean;
  isBanned(kind: BanKind, value: string): boolean;
  bans(): BanRow[];
  roomSetting(key: string): string | undefined;
  setRoomSetting(key: string, value: string): void;
  /** Every room setting whose key starts with `prefix`, by key. */
  roomSettingsUnder(prefix: string): { key: string; value: string }[];
  groupsOwnedCount(userId: number): number;
}

export type { ConversationStore, MessageChange, MessageFacts } from './conversation.js';

/** Everything the server needs from the database. */
export type ServerStore = Store & SessionStore & AccessStore & SilentAccountStore & ConversationStore & FileStore & MlsStore;

type Promised<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/**
 * The store as the server calls it once storage may be remote (issue 16): every call returns a promise.
 * SQLite answers through an adapter over ServerStore; PostgreSQL implements it directly. `changeGroups`
 * runs `change` in one transaction: `tx` is the store bound to that transaction, and `change` awaits
 * nothing but calls on `tx`.
 */
export type AsyncStore = { [K in Exclude<keyof ServerStore, 'changeGroups'>]: Promised<ServerStore[K]> } & {
  /** A store of database connections (PostgreSQL's): how many are open, idle, and how many calls wait for one (the admin port's metrics). */
  poolStats?(): { total: number; idle: number; waiting: number };
  changeGroups<T>(
    ts: number,
    change: (tx: AsyncStore) => Promise<{ result: T; events: NewGroupEvent[] }>,
  ): Promise<{ result: T; lines: StoredLine[] }>;
};
