/**
 * The App API: the only thing the renderer talks to. The Electron preload exposes
 * it over IPC, the browser shell over a local WebSocket; both carry exactly these
 * calls and events, so the renderer cannot tell which shell it runs in.
 */
import type {
  AccessMode,
  ChatMessage,
  Contact,
  ConversationKey,
  GroupInfo,
  SearchHit,
  Target,
  UserInfo,
} from './protocol.js';

export type Language = 'en' | 'tr';
export type ThemeChoice = 'system' | 'light' | 'dark';

export interface Settings {
  lastHost: string;
  lastPort: number;
  lastName: string;
  lastRoomName: string;
  /** 'system' follows the OS language. */
  language: Language | 'system';
  theme: ThemeChoice;
  notifications: boolean;
}

export interface HostRequest {
  roomName: string;
  port: number;
  name: string;
  password: string;
  /** TLS is on unless this is false; then nothing is encrypted, passwords included. */
  tls?: boolean;
  /** Who can create an account; when not given, the mode the room was last hosted with (open at first). */
  access?: AccessMode;
  /** Needed with access 'passphrase'. */
  passphrase?: string;
}

export interface JoinRequest {
  host: string;
  port: number;
  name: string;
  password: string;
  /**
   * Trust this certificate fingerprint for the host from now on, replacing the one
   * pinned before: what the user confirms after a FINGERPRINT_CHANGED error.
   */
  acceptFingerprint?: string;
  /** Join even though the host does not encrypt (after a NOT_ENCRYPTED error). */
  allowUnencrypted?: boolean;
  /** The room passphrase, for creating an account in a room that asks for one. */
  passphrase?: string;
}

export interface HostInfo {
  roomName: string;
  port: number;
  /** "address:port" for every LAN IPv4 address of this machine. */
  addresses: string[];
  /** True when the machine has no LAN address: only this computer can join. */
  loopbackOnly: boolean;
  /** The room certificate's SHA-256 fingerprint for joiners to compare; null when TLS is off. */
  fingerprint: string | null;
}

/** How the link to the host is protected. */
export type ConnectionSecurity =
  /** `firstUse`: this fingerprint was not known before this connection and is now pinned. */
  | { encrypted: true; fingerprint: string; firstUse: boolean }
  /** The host turned TLS off: messages and passwords cross the network readable by anyone. */
  | { encrypted: false };

export interface HostUser {
  name: string;
  connections: number;
  /** "address:port" of each connection. */
  addresses: string[];
  /** The client name and version each connection sent, when it sent one. */
  clients: string[];
  muted: boolean;
}

/** An account waiting for the host's approval. */
export interface PendingUser {
  name: string;
  createdAt: number;
}

/** What the host can do to a user or address from the host panel. */
export type HostAdminAction =
  | { kind: 'kick'; user: string }
  | { kind: 'ban'; user: string }
  | { kind: 'banAddress'; address: string }
  | { kind: 'unban'; user: string }
  | { kind: 'unbanAddress'; address: string }
  /** Without minutes: until unmuted. */
  | { kind: 'mute'; user: string; minutes?: number }
  | { kind: 'unmute'; user: string }
  | { kind: 'approve'; user: string }
  | { kind: 'reject'; user: string }
  /** Without password: a generated one, returned in the result. */
  | { kind: 'resetPassword'; user: string; password?: string };

export interface HostBan {
  kind: 'name' | 'address';
  /** A name (lower-cased) or an IP address. */
  value: string;
  createdAt: number;
}

export interface HostAdminResult {
  /** The new password, for resetPassword. */
  password?: string;
}

export interface HostLogEntry {
  time: string;
  level: 'info' | 'warn' | 'error';
  event: string;
  [field: string]: unknown;
}

export type ConnectionStatus = 'offline' | 'connecting' | 'online' | 'reconnecting';

export interface SessionView {
  status: ConnectionStatus;
  /** Logged-in user name (canonical form from the server). */
  me: string | null;
  roomName: string | null;
  server: { host: string; port: number } | null;
  /** Set while this app is hosting the room. */
  hosting: HostInfo | null;
  /** Set while connected or reconnecting. */
  security: ConnectionSecurity | null;
  /** Last connection error, human-readable, when status is offline or reconnecting. */
  error: AppError | null;
  /**
   * Set when the app restored this session by itself at start (rejoined with the saved
   * session token, after restarting the room if it hosted it). While it connects, status is
   * 'connecting' with `me` and `roomName` already set, and users, contacts, groups and the
   * latest history pages are answered from what the app saw last.
   */
  resumed?: true;
}

/** Errors crossing the API boundary as data. `code` is a protocol ErrorCode or one of the app's own. */
export interface AppError {
  code: string;
  message: string;
  /** With FINGERPRINT_CHANGED: the fingerprint pinned for the host and the one it presented now. */
  fingerprints?: { pinned: string; presented: string };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export type OutboxStatus = 'queued' | 'sent' | 'delivered' | 'failed';

export type AppEvent =
  | { type: 'session'; session: SessionView }
  | { type: 'message'; message: ChatMessage }
  /** Your own message's progress: queued (not yet stored), sent (stored by the host), delivered (reached another device), failed (refused). */
  | {
      type: 'outbox';
      clientMsgId: string;
      status: OutboxStatus;
      target: Target;
      text: string;
      ts: number;
      message?: ChatMessage;
      error?: AppError;
    }
  | { type: 'presence'; user: string; online: boolean; ts: number }
  /** `from` asked `to` for a private chat (you are one of them). */
  | { type: 'chatRequest'; from: string; to: string; ts: number }
  /** `from` answered the request of `to`. */
  | { type: 'chatAnswer'; from: string; to: string; accepted: boolean; ts: number }
  /** `user` left the private chat with `with`. */
  | { type: 'chatLeft'; user: string; with: string; ts: number }
  | { type: 'group'; group: GroupInfo }
  | { type: 'groupRemoved'; groupId: number; name: string; reason: 'deleted' | 'removed' }
  | { type: 'hostLog'; entry: HostLogEntry }
  | { type: 'hostUsers'; users: HostUser[] }
  | { type: 'hostPending'; users: PendingUser[] }
  | { type: 'hostBans'; bans: HostBan[] }
  /** Your messages in `conv` up to id `upTo` reached the other side's device. */
  | { type: 'delivered'; conv: ConversationKey; upTo: number }
  /** Settings changed (in this or another window). */
  | { type: 'settings'; settings: Settings }
  /** The shell asks the main window to open this conversation (its notification was clicked). */
  | { type: 'showConversation'; conv: ConversationKey };

export interface Page {
  messages: ChatMessage[];
  hasMore: boolean;
}

export interface SearchPage {
  hits: SearchHit[];
  hasMore: boolean;
}

/**
 * Every call resolves with a Result: errors are data, never thrown across the boundary.
 */
export interface AppApi {
  /**
   * Starts the embedded server and joins it as `name`. An empty password logs in
   * with the session saved for that server, if there is one.
   */
  host(request: HostRequest): Promise<Result<SessionView>>;
  stopHosting(): Promise<Result<void>>;
  /** Joins a room; an empty password uses the saved session as for host(). */
  join(request: JoinRequest): Promise<Result<SessionView>>;
  /** Leaves the room (logs out of the session on the server). */
  leave(): Promise<Result<void>>;
  /** The current session, for a window that just opened. */
  session(): Promise<Result<SessionView>>;

  /** Queues a message; progress arrives as 'outbox' events. Returns its client id. */
  send(target: Target, text: string): Promise<Result<{ clientMsgId: string }>>;
  /** Messages accepted by send() and not yet stored (to show after a window opens). */
  unsent(): Promise<Result<{ clientMsgId: string; target: Target; text: string }[]>>;
  history(conv: ConversationKey, before?: number, limit?: number): Promise<Result<Page>>;
  search(query: string, person?: string, before?: number): Promise<Result<SearchPage>>;
  users(): Promise<Result<UserInfo[]>>;
  contacts(): Promise<Result<Contact[]>>;
  chatRequest(user: string): Promise<Result<Contact>>;
  chatAnswer(user: string, accept: boolean): Promise<Result<Contact>>;
  chatLeave(user: string): Promise<Result<void>>;

  groups(): Promise<Result<GroupInfo[]>>;
  groupCreate(name: string): Promise<Result<GroupInfo>>;
  groupRename(groupId: number, name: string): Promise<Result<GroupInfo>>;
  groupDelete(groupId: number): Promise<Result<void>>;
  groupAddMember(groupId: number, user: string): Promise<Result<GroupInfo>>;
  groupRemoveMember(groupId: number, user: string): Promise<Result<GroupInfo>>;

  /** While hosting: who is connected and the server log so far. */
  hostUsers(): Promise<Result<HostUser[]>>;
  hostLog(): Promise<Result<HostLogEntry[]>>;
  /** While hosting: accounts waiting for approval. */
  hostPending(): Promise<Result<PendingUser[]>>;
  /** While hosting: banned names and addresses. */
  hostBans(): Promise<Result<HostBan[]>>;
  /** While hosting: kick, ban, mute, approve, reset a password… (the host's own account is refused). */
  hostAdmin(action: HostAdminAction): Promise<Result<HostAdminResult>>;
  /** Changes this account's password on the room's server; its other devices are logged out. */
  changePassword(current: string, password: string): Promise<Result<void>>;

  settings(): Promise<Result<Settings>>;
  updateSettings(changes: Partial<Settings>): Promise<Result<Settings>>;

  /** Opens a conversation in its own window (Electron: a new BrowserWindow; browser shell: handled by the renderer). */
  openChatWindow(conv: ConversationKey): Promise<Result<void>>;

  /** Subscribes to every event; returns the unsubscribe function. */
  onEvent(listener: (event: AppEvent) => void): () => void;
}

/** The request/response calls, by name: what IPC handlers and the browser bridge route. */
export type AppCallName = Exclude<keyof AppApi, 'onEvent'>;

export const APP_CALLS: readonly AppCallName[] = [
  'host',
  'stopHosting',
  'join',
  'leave',
  'session',
  'send',
  'unsent',
  'history',
  'search',
  'users',
  'contacts',
  'chatRequest',
  'chatAnswer',
  'chatLeave',
  'groups',
  'groupCreate',
  'groupRename',
  'groupDelete',
  'groupAddMember',
  'groupRemoveMember',
  'hostUsers',
  'hostLog',
  'hostPending',
  'hostBans',
  'hostAdmin',
  'changePassword',
  'settings',
  'updateSettings',
  'openChatWindow',
] as const;

/** App-level error codes (besides the protocol's). */
export const AppErrorCode = {
  NOT_CONNECTED: 'NOT_CONNECTED',
  ALREADY_CONNECTED: 'ALREADY_CONNECTED',
  NOT_HOSTING: 'NOT_HOSTING',
  PORT_IN_USE: 'PORT_IN_USE',
  /** The room's database file is damaged, not LanChat's, or locked by another program; it was left untouched. */
  DATABASE_UNUSABLE: 'DATABASE_UNUSABLE',
  CONNECT_FAILED: 'CONNECT_FAILED',
  /** The host's certificate is not the pinned one: maybe an impostor. Join again with acceptFingerprint to trust it. */
  FINGERPRINT_CHANGED: 'FINGERPRINT_CHANGED',
  /** The host does not use TLS. Join again with allowUnencrypted to connect anyway. */
  NOT_ENCRYPTED: 'NOT_ENCRYPTED',
  HOST_GONE: 'HOST_GONE',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The shell cannot do this (e.g. the browser shell opening a native window). */
  UNSUPPORTED: 'UNSUPPORTED',
  INTERNAL: 'INTERNAL',
  TIMEOUT: 'TIMEOUT',
} as const;
