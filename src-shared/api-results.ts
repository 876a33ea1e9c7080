/**
 * What the App API's calls return and how they fail: plain types and the app's error codes, below both
 * the table of calls (api-schema.ts), which names them as its calls' results, and the API's type
 * (api.ts), which passes them on to everyone else.
 */
import type { AccessMode } from './protocol/limits.js';
import type { Target } from './protocol/objects.js';
import type { RequestResults } from './protocol/requests.js';

/** A host this profile trusts (trust on first use): the fingerprint its certificate had the first time, or null where the user agreed to join it without encryption. */
export interface TrustedHost {
  /** "host:port", as the user joined it. */
  server: string;
  fingerprint: string | null;
  /** The name the room with this fingerprint gave when last entered; null when not known (pinned by an older version, or unencrypted). */
  roomName: string | null;
}

/** A room announced on the local network (DNS-SD), as the Join screen lists it. */
export interface NearbyRoom {
  /**
   * Unique in the list: the announcement's service instance name, followed by " <address>:<port>" for
   * another address that answers for the instance name of a room the app knows.
   */
  id: string;
  roomName: string;
  /** The name of the announcing machine. */
  hostName: string;
  /** The address to join: the one the announcement came from. */
  host: string;
  port: number;
  /** The protocol version the host speaks. */
  protocol: string;
  tls: boolean;
  access: AccessMode;
  /** The certificate fingerprint the room claims; null without TLS. Checked against the handshake on join. */
  fingerprint: string | null;
  /**
   * What this app knows of the room, never from the announcement alone: 'known', its address presented
   * this fingerprint when the app entered the room (or, at a new address, a handshake there did just now);
   * 'lookalike', its name looks like that of a room the app entered, and it is not shown to be that room.
   * Absent for a room the app knows nothing of.
   */
  identity?: 'known' | 'lookalike';
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
  /** `firstUse`: this fingerprint was not known before this connection (at any address) and is now pinned. */
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

/** A banned name or address (the store keeps exactly these rows). */
export interface HostBan {
  kind: 'name' | 'address';
  /** A name key for 'name' (lower-cased), an address as the server sees it for 'address'. */
  value: string;
  createdAt: number;
}

export interface HostAdminResult {
  /** The new password, for resetPassword. */
  password?: string;
  /** How many accounts purgeSilent deleted. */
  purged?: number;
}

/** Accounts that never wrote (no message, no group), not online: what a registration storm leaves. */
export interface HostSilentAccounts {
  count: number;
  /** The oldest of them (at most 100), by name. */
  accounts: PendingUser[];
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
  /** Where the room is; `alternates`: the other addresses the join named (see JoinRequest). */
  server: { host: string; port: number; alternates?: { host: string; port: number }[] } | null;
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
  /** Set while the host has muted you: `until` is when it ends (the host's clock, ms epoch), null until the host lifts it. */
  muted?: { until: number | null };
  /** Protocol 1.1: the optional features the room's server offers (hello.features); absent with a 1.0 server. */
  features?: string[];
  /** Protocol 1.1: the limits in force in the room (hello.limits), e.g. how long a message stays editable. */
  limits?: RoomLimits;
}

export type RoomLimits = NonNullable<RequestResults['hello']['limits']>;

/** Errors crossing the API boundary as data. `code` is a protocol ErrorCode or one of the app's own. */
/** A message given to send() and not stored yet, as `unsent` lists it (what its 'outbox' events say of it). */
export interface UnsentMessage {
  clientMsgId: string;
  target: Target;
  text: string;
  replyTo?: number;
  /** Why it waits (E2EE_WAITING). */
  error?: AppError;
  /** It went out already: the host may have it, and it can no longer be cancelled (MAYBE_SENT). */
  tried?: true;
}

export interface AppError {
  code: string;
  message: string;
  /**
   * With FINGERPRINT_CHANGED: the fingerprint expected of the host and the one it presented now.
   * The expected one was pinned before, or, with `announced`, only announced on the network.
   */
  fingerprints?: { pinned: string; presented: string; announced?: true };
  /**
   * With LOOKALIKE_ROOM: the room at the address calls itself `roomName` like a room the app entered
   * before (`known`, that room's fingerprint), but presented `presented` (null: not encrypted).
   */
  lookalike?: { roomName: string; known: string; presented: string | null };
  /**
   * With E2EE_WAITING: the users none of whose apps can receive end-to-end encrypted messages yet (a DM's
   * other user; a group's other members, so that its encryption cannot begin); it goes once one of them
   * can. Absent: this device waits for a member's app to add it to the group's encryption.
   */
  waitingFor?: string[];
  /** With a file error of sendFiles that is about one of its files (FILE_TOO_LARGE): that file's name. */
  file?: string;
  /**
   * The host's retryAfterMs (docs/PROTOCOL.md §18.2), kept with a transfer's RATE_LIMITED and STORAGE_FULL:
   * a STORAGE_FULL carrying it is the sender's limit per day, one without it the host's storage.
   */
  retryAfterMs?: number;
}

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
  /**
   * The room at an address the app has not entered calls itself by the name of a room it has, with another
   * certificate: nothing but hello was sent. Join again with differentRoom to enter it as the other room it is.
   */
  LOOKALIKE_ROOM: 'LOOKALIKE_ROOM',
  /** The host does not use TLS. Join again with allowUnencrypted to connect anyway. */
  NOT_ENCRYPTED: 'NOT_ENCRYPTED',
  HOST_GONE: 'HOST_GONE',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** Joined with an empty password, and no session for that name on that host is saved. */
  NO_SAVED_SESSION: 'NO_SAVED_SESSION',
  /** The shell cannot do this (e.g. the browser shell opening a native window). */
  UNSUPPORTED: 'UNSUPPORTED',
  /** The file could run code when opened (src-shared/risky-files.ts): ask the user, then open it with `confirmed`. */
  RISKY_FILE: 'RISKY_FILE',
  INTERNAL: 'INTERNAL',
  TIMEOUT: 'TIMEOUT',
  /** A direct message or group that cannot be end-to-end encrypted now (issue 35): nothing was sent, in plain or otherwise. */
  E2EE_UNAVAILABLE: 'E2EE_UNAVAILABLE',
  /**
   * Why a queued encrypted message has not gone: a direct message's other user's app cannot receive it yet, or
   * (to a group) this device is not in the group's encryption yet. It goes once it can, or is cancelled (cancelUnsent).
   */
  E2EE_WAITING: 'E2EE_WAITING',
  /** Why a message ended as failed: you cancelled it before it went. */
  CANCELLED: 'CANCELLED',
  /** Why cancelUnsent did not cancel: the message went out before its connection dropped, so the host may have it; it goes again, and its answer tells. */
  MAYBE_SENT: 'MAYBE_SENT',
} as const;
