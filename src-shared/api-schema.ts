/**
 * The App API in ONE table: each call's argument list as a zod tuple (in the order
 * of the method's parameters) and the type of the value its Result carries. AppApi
 * (api.ts) is derived from it, the core's facade and the preload list its keys, and
 * parseCall is the gate that turns what a window sent (IPC or the browser bridge)
 * into typed arguments or a Result error, so nothing unvalidated reaches the core.
 */
import { z } from 'zod';
import {
  type AppError,
  AppErrorCode,
  type HostAdminResult,
  type HostBan,
  type HostLogEntry,
  type HostSilentAccounts,
  type HostUser,
  type NearbyRoom,
  type PendingUser,
  type SessionView,
  type TrustedHost,
  type UnsentMessage,
} from './api-results.js';
import { ACCESS_MODES, LIMITS } from './protocol/limits.js';
import { type CallInfo, callSignal, endpointId } from './protocol/calls.js';
import {
  callId,
  type ChatMessage,
  type Contact,
  conversationKey,
  fileId,
  type GroupInfo,
  type GroupInvitation,
  groupId,
  groupName,
  messageId,
  nameField,
  type HistoryPage,
  pageLimit,
  reactionEmoji,
  type ReadState,
  type Receipt,
  type SearchPage,
  target,
  type UserInfo,
} from './protocol/objects.js';

/**
 * An optional trailing argument. JSON turns an `undefined` array slot into
 * `null`, so over the bridge `history(conv, undefined, 50)` arrives as
 * `["room", null, 50]`; null is read as "not given".
 */
function optionalArgument<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}

const roomName = z.string().trim().min(1, 'a room needs a name').max(64);
/** Empty means "resume with the session token saved for this server" instead of a password. */
const password = z.string().max(LIMITS.maxPasswordLength);
/** Host names, IPv4 and IPv6 literals (with a zone after %); nothing that could smuggle a path or a port. */
const hostName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.:%_-]{1,253}$/, 'enter a host name or an IP address, without the port');
const joinPort = z.number().int().min(1).max(65535);
/** Ports below 1024 need administrator rights; 0 lets the system pick a free port. */
const hostPort = z
  .number()
  .int()
  .refine((port) => port === 0 || (port >= 1024 && port <= 65535), 'a port is 0 (any free port) or 1024 to 65535');

/** How many more addresses of one room (its other nodes) a join may name. */
const MAX_ALTERNATES = 8;
const serverAddress = z.strictObject({ host: hostName, port: joinPort });

/** A byte limit of a hosted room: a whole number of bytes above 0. */
const byteLimit = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** The file limits a room hosted from the app sets; each one not given keeps the host's default (FILE_LIMITS). */
const hostFileLimits = z.strictObject({
  /** Largest file. */
  maxFileBytes: byteLimit.optional(),
  /** All files the host keeps. */
  maxFileStorageBytes: byteLimit.optional(),
  /** Bytes of files one user may send per UTC day. */
  maxFileBytesPerDay: byteLimit.optional(),
});

export const settingsSchema = z.strictObject({
  /** A host, or the addresses of a room's nodes as typed ("a:7171, b:7171"). */
  lastHost: z.string().max(260 * (MAX_ALTERNATES + 1)),
  lastPort: z.number().int().min(0).max(65535),
  lastName: z.string().max(LIMITS.maxNameLength * 4),
  lastRoomName: z.string().max(64),
  /** The file limits the last room hosted from this profile set. */
  lastFileLimits: hostFileLimits.optional(),
  /** The start screen's tab: how this profile last entered a room. */
  lastMode: z.enum(['host', 'join']),
  /** 'system' follows the OS language. */
  language: z.enum(['en', 'tr', 'system']),
  theme: z.enum(['system', 'light', 'dark']),
  notifications: z.boolean(),
  /** Tell the others when you are typing (protocol typing frames). */
  sendTyping: z.boolean(),
  // Per-conversation notifications (issue 12, src-shared/notify.ts).
  /** Muted conversations: until when (ms since the epoch) or 'always'. Mentions of you still notify. */
  mutes: z.record(conversationKey, z.union([z.literal('always'), z.number().int().min(0)])).refine((mutes) => Object.keys(mutes).length <= 10_000, 'too many muted conversations'),
  /** No notifications at all. */
  doNotDisturb: z.boolean(),
});

/** As the app shows it: SHA-256, 32 upper-case hex bytes joined by colons. */
const fingerprint = z.string().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'a fingerprint is 32 hex bytes joined by colons');
const passphrase = z.string().min(1, 'enter the room passphrase').max(LIMITS.maxPassphraseLength);
const newPassword = z.string().min(LIMITS.minPasswordLength, 'a password cannot be empty').max(LIMITS.maxPasswordLength);
const address = z.string().trim().min(1).max(64);

export const hostRequestSchema = z
  .strictObject({
    roomName,
    port: hostPort,
    name: nameField,
    password,
    /** TLS is on unless this is false; then nothing is encrypted, passwords included. */
    tls: z.boolean().optional(),
    /** Who can create an account; when not given, the mode the room was last hosted with (open at first). */
    access: z.enum(ACCESS_MODES).optional(),
    /** Needed with access 'passphrase'. */
    passphrase: passphrase.optional(),
    /** Announce the room on the local network (DNS-SD) unless this is false. */
    announce: z.boolean().optional(),
    fileLimits: hostFileLimits.optional(),
  })
  .refine((request) => request.access !== 'passphrase' || request.passphrase !== undefined, {
    message: 'a room that asks for a passphrase needs one',
    path: ['passphrase'],
  });

export const joinRequestSchema = z.strictObject({
  host: hostName,
  port: joinPort,
  /** More addresses of the same room (its other nodes), tried in turn when one does not answer. */
  alternates: z.array(serverAddress).max(MAX_ALTERNATES).optional(),
  name: nameField,
  password,
  /** The room passphrase, for creating an account in a room that asks for one. */
  passphrase: passphrase.optional(),
  /**
   * Trust this certificate fingerprint for the host from now on, replacing the one
   * pinned before: what the user confirms after a FINGERPRINT_CHANGED error.
   */
  acceptFingerprint: fingerprint.optional(),
  /** Join even though the host does not encrypt (after a NOT_ENCRYPTED error). */
  allowUnencrypted: z.boolean().optional(),
  /** false: only log in to an existing account (a retry while it waits for approval), never create one. */
  create: z.boolean().optional(),
  /**
   * The fingerprint the room announced on the network (NearbyRoom.fingerprint). Not proof of
   * anything: a host with no pin yet must present exactly this one, or the join fails with
   * FINGERPRINT_CHANGED. A pinned fingerprint still comes first.
   */
  announcedFingerprint: fingerprint.optional(),
  /** The name the room announced (NearbyRoom.roomName): checked against the rooms entered before, as the name it gives in hello is. */
  announcedRoomName: z.string().min(1).max(250).optional(),
  /**
   * The user confirmed, after LOOKALIKE_ROOM, that this is another room than the one they entered under
   * that name. With TLS it goes with acceptFingerprint, so the confirmation holds for that certificate only.
   */
  differentRoom: z.literal(true).optional(),
});

/** Only accounts created at least this many minutes ago. */
const silentAge = z.number().int().min(0).max(60 * 24 * 365 * 10);

/** What the host can do to a user or address from the host panel. */
export const hostAdminActionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('kick'), user: nameField }),
  z.strictObject({ kind: z.literal('ban'), user: nameField }),
  z.strictObject({ kind: z.literal('banAddress'), address }),
  z.strictObject({ kind: z.literal('unban'), user: nameField }),
  z.strictObject({ kind: z.literal('unbanAddress'), address }),
  /** Without minutes: until unmuted. */
  z.strictObject({ kind: z.literal('mute'), user: nameField, minutes: z.number().positive().max(60 * 24 * 365).optional() }),
  z.strictObject({ kind: z.literal('unmute'), user: nameField }),
  z.strictObject({ kind: z.literal('approve'), user: nameField }),
  z.strictObject({ kind: z.literal('reject'), user: nameField }),
  /** Without password: a generated one, returned in the result. */
  z.strictObject({ kind: z.literal('resetPassword'), user: nameField, password: newPassword.optional() }),
  /** Deletes the accounts hostSilentAccounts lists (with the same age); the result says how many. */
  z.strictObject({ kind: z.literal('purgeSilent'), olderThanMinutes: silentAge.optional() }),
]);

// files (issue 13)
const pixels = z.number().int().min(1).max(100_000);
/** A file to send, with what the sending window measured of an image (the host never decodes images). */
export const outgoingFile = z.union([
  z.strictObject({
    path: z.string().min(1).max(4096),
    width: pixels.optional(),
    height: pixels.optional(),
    thumbnail: z.string().max(LIMITS.maxThumbnailLength).optional(),
  }),
  z.strictObject({
    name: z.string().min(1).max(LIMITS.maxFileNameBytes),
    /** The bytes in base64 (the browser shell's page has no paths). */
    data: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64'),
    width: pixels.optional(),
    height: pixels.optional(),
    thumbnail: z.string().max(LIMITS.maxThumbnailLength).optional(),
  }),
]);

/** Marks the type of the value a call's Result carries; it exists only for the compiler. */
function returns<T>(): { readonly value?: T } {
  return {};
}

const none = z.tuple([]);
const fileName = z.string().min(1).max(LIMITS.maxFileNameBytes);
const messageText = z.string().min(1, 'a message cannot be empty').max(LIMITS.maxTextLength);

/**
 * Every call resolves with a Result: errors are data, never thrown across the boundary.
 */
export const appCalls = {
  /**
   * Starts the embedded server and joins it as `name`. An empty password logs in
   * with the session saved for that server, if there is one.
   */
  host: { args: z.tuple([hostRequestSchema]), returns: returns<SessionView>() },
  stopHosting: { args: none, returns: returns<void>() },
  /** Joins a room; an empty password uses the saved session as for host(). */
  join: { args: z.tuple([joinRequestSchema]), returns: returns<SessionView>() },
  /**
   * The rooms announced on the local network; the first call starts watching it, and every
   * change then arrives as a 'nearbyRooms' event. UNSUPPORTED when discovery is turned off.
   */
  nearbyRooms: { args: none, returns: returns<NearbyRoom[]>() },
  /** Leaves the room; the session stays saved (an empty-password join or the next start uses it). */
  leave: { args: none, returns: returns<void>() },
  /** The current session, for a window that just opened. */
  session: { args: none, returns: returns<SessionView>() },
  /** Queues a message, optionally a reply to the message with id replyTo; progress arrives as 'outbox' events. Returns its client id. */
  send: {
    args: z.tuple([target, messageText, optionalArgument(messageId)]),
    returns: returns<{ clientMsgId: string }>(),
  },
  /** Messages accepted by send() and not yet stored (to show after a window opens). */
  unsent: { args: none, returns: returns<UnsentMessage[]>() },
  /**
   * Gives up on a message not stored yet: one waiting for another user's app (E2EE_WAITING), or one that never
   * went out (written while the connection was down); it ends as failed, CANCELLED. MAYBE_SENT: it went out
   * before its connection dropped, so the host may have it; it goes again and is not cancelled.
   */
  cancelUnsent: { args: z.tuple([z.string().min(1).max(64)]), returns: returns<void>() },
  history: {
    args: z.tuple([conversationKey, optionalArgument(messageId), optionalArgument(pageLimit)]),
    returns: returns<HistoryPage>(),
  },
  search: {
    args: z.tuple([z.string().max(LIMITS.maxSearchLength), optionalArgument(nameField), optionalArgument(messageId)]),
    returns: returns<SearchPage>(),
  },
  users: { args: none, returns: returns<UserInfo[]>() },
  contacts: { args: none, returns: returns<Contact[]>() },
  chatRequest: { args: z.tuple([nameField]), returns: returns<Contact>() },
  chatAnswer: { args: z.tuple([nameField, z.boolean()]), returns: returns<Contact>() },
  chatLeave: { args: z.tuple([nameField]), returns: returns<void>() },
  groups: { args: none, returns: returns<GroupInfo[]>() },
  /** members: people to invite at once. */
  groupCreate: { args: z.tuple([groupName, optionalArgument(z.array(nameField).max(100))]), returns: returns<GroupInfo>() },
  groupRename: { args: z.tuple([groupId, groupName]), returns: returns<GroupInfo>() },
  groupDelete: { args: z.tuple([groupId]), returns: returns<void>() },
  groupAddMember: { args: z.tuple([groupId, nameField]), returns: returns<GroupInfo>() },
  groupRemoveMember: { args: z.tuple([groupId, nameField]), returns: returns<GroupInfo>() },
  /** While hosting: who is connected. */
  hostUsers: { args: none, returns: returns<HostUser[]>() },
  /** The server log so far (kept after the room stops). */
  hostLog: { args: none, returns: returns<HostLogEntry[]>() },
  /** While hosting: accounts waiting for approval. */
  hostPending: { args: none, returns: returns<PendingUser[]>() },
  /** While hosting: banned names and addresses. */
  hostBans: { args: none, returns: returns<HostBan[]>() },
  /** While hosting: kick, ban, mute, approve, reset a password… (the host's own account is refused). */
  hostAdmin: { args: z.tuple([hostAdminActionSchema]), returns: returns<HostAdminResult>() },
  /** Changes this account's password on the room's server; its other devices are logged out. */
  changePassword: { args: z.tuple([newPassword, newPassword]), returns: returns<void>() },
  /** The user has compared the first-use fingerprint: no window shows the first-use note for this connection again. */
  acknowledgeFingerprint: { args: none, returns: returns<void>() },
  /** The hosts this profile trusts, by `server`. */
  trustedHosts: { args: none, returns: returns<TrustedHost[]>() },
  /**
   * Forgets a host's fingerprint (or the consent to join it unencrypted): the next join compares its
   * fingerprint again, or asks again. A connection open to it stays open.
   */
  forgetHost: { args: z.tuple([z.string().min(1).max(300)]), returns: returns<void>() },
  settings: { args: none, returns: returns<z.infer<typeof settingsSchema>>() },
  updateSettings: { args: z.tuple([settingsSchema.partial()]), returns: returns<z.infer<typeof settingsSchema>>() },
  /** Opens a conversation in its own window (Electron: a new BrowserWindow; browser shell: handled by the renderer). */
  openChatWindow: { args: z.tuple([conversationKey]), returns: returns<void>() },
  // Sign out (issue 11): distinct from leave.
  /** Logs out on the server and forgets the saved session and room: the next start shows the start screen. */
  signOut: { args: none, returns: returns<void>() },
  // Conversation changes (issue 12; protocol §17). Changes by anyone arrive as 'event' events.
  /** Replaces the text of your own message; answers the message as it is now. */
  editMessage: { args: z.tuple([messageId, messageText]), returns: returns<ChatMessage>() },
  /** Deletes your own message for everyone (the host: any message it can read). */
  deleteMessage: { args: z.tuple([messageId]), returns: returns<ChatMessage>() },
  /** Adds (on true) or removes your reaction with this emoji. */
  react: { args: z.tuple([messageId, reactionEmoji, z.boolean()]), returns: returns<ChatMessage>() },
  /** Marks conv read up to this message id (a position never moves back); answers the position now. */
  markRead: { args: z.tuple([conversationKey, messageId]), returns: returns<number>() },
  /** Your read position and unread counts in every conversation. */
  readState: { args: none, returns: returns<ReadState[]>() },
  /** Where the other readers of a DM or group have read up to (empty in the room, or with read receipts off). */
  receipts: { args: z.tuple([conversationKey]), returns: returns<Receipt[]>() },
  /** Call on each keystroke: sent at most once per typingIntervalMs, and not at all with the setting sendTyping off. */
  typing: { args: z.tuple([conversationKey]), returns: returns<void>() },
  /** Reads, and with a field changes, the account's privacy settings on the room's server. */
  privacy: {
    args: z.tuple([optionalArgument(z.strictObject({ sendReadReceipts: z.boolean().optional() }))]),
    returns: returns<{ sendReadReceipts: boolean }>(),
  },
  // Purging accounts that never wrote (issue 10 item 2).
  /** While hosting: accounts that never wrote and are not online, created at least that many minutes ago if given. */
  hostSilentAccounts: { args: z.tuple([optionalArgument(silentAge)]), returns: returns<HostSilentAccounts>() },
  // groups: invitations
  /** Your unanswered group invitations; changes arrive as 'groupInvitations' events. */
  groupInvitations: { args: none, returns: returns<GroupInvitation[]>() },
  /** Accepts (the group you joined) or declines (null) an invitation. */
  groupAnswer: { args: z.tuple([groupId, z.boolean()]), returns: returns<GroupInfo | null>() },
  // files (issue 13, PROTOCOL.md §18)
  /**
   * Uploads the files and sends them in one message with the caption (may be empty), optionally a reply to
   * the message with id replyTo; progress as 'transfer' events.
   */
  sendFiles: {
    args: z.tuple([target, z.array(outgoingFile).min(1).max(LIMITS.maxAttachments), z.string().max(LIMITS.maxTextLength), optionalArgument(messageId)]),
    returns: returns<{ transfers: string[] }>(),
  },
  /** Saves a message's file (its attachment id and name) to a path, or without one to the app's downloads folder. */
  downloadFile: {
    args: z.tuple([fileId, fileName, optionalArgument(z.string().min(1).max(4096))]),
    returns: returns<{ transfer: string; path: string }>(),
  },
  /** Stops an upload or download under way (an upload's message is then not sent). */
  cancelTransfer: { args: z.tuple([z.string().uuid()]), returns: returns<void>() },
  // files UI: retrying a failed transfer (issue 13)
  /** Starts a failed upload or download again from where it stopped. */
  retryTransfer: { args: z.tuple([z.string().uuid()]), returns: returns<void>() },
  /** Desktop only: downloads the file if needed and opens it with the system's app; a risky file needs `confirmed`. */
  openFile: { args: z.tuple([fileId, fileName, z.boolean()]), returns: returns<void>() },
  /** Desktop only: downloads the file if needed and shows it in the system's file manager. */
  showFileInFolder: { args: z.tuple([fileId, fileName]), returns: returns<void>() },
  /** Desktop only: asks where to save the file, then downloads it there; null when the user cancelled. */
  saveFileAs: { args: z.tuple([fileId, fileName]), returns: returns<{ transfer: string; path: string } | null>() },
  // Calls (issue 39, PROTOCOL.md §21). Changes arrive as 'call' events, signals for this app's endpoint as 'callSignal' events.
  /**
   * Starts a call (video, or voice only) in a direct conversation or group, or joins the one already there;
   * answers the call and this app's endpoint in it. The app takes part in one call at a time: it leaves
   * the one it was in. After a reconnect of the link the app joins again with the same endpoint by itself.
   */
  callStart: { args: z.tuple([conversationKey, z.boolean()]), returns: returns<{ call: CallInfo; endpoint: string }>() },
  /** Joins a call (accepts a ring, or joins a group call in progress), leaving the one the app was in. */
  callJoin: { args: z.tuple([callId]), returns: returns<{ call: CallInfo; endpoint: string }>() },
  /** Declines a ringing call (this user's other devices stop ringing too). */
  callDecline: { args: z.tuple([callId]), returns: returns<void>() },
  /** Hangs up. */
  callLeave: { args: z.tuple([callId]), returns: returns<void>() },
  /** Relays a WebRTC signal from this app's endpoint to another endpoint of the call. */
  callSignal: { args: z.tuple([callId, endpointId, callSignal]), returns: returns<void>() },
  /** The calls ringing or active in this user's conversations now (for a window that just opened). */
  activeCalls: { args: none, returns: returns<CallInfo[]>() },
  // end-to-end encryption (issue 35)
  /** The safety number of this user and another (compare it in person), and whether you marked them verified. */
  safetyNumber: { args: z.tuple([nameField]), returns: returns<{ safetyNumber: string; verified: boolean }>() },
  /** Marks the other user's devices, as they are now, as verified. */
  markVerified: { args: z.tuple([nameField]), returns: returns<void>() },
  /**
   * A conversation as one file, every message the app can page through (an end-to-end encrypted one from
   * this device's store): HTML to read, or JSON to process (docs/EXPORT.md). The window saves it.
   */
  exportConversation: { args: z.tuple([conversationKey, z.enum(['html', 'json'])]), returns: returns<{ fileName: string; mimeType: string; content: string }>() },
};

/** The request/response calls, by name: what IPC handlers and the browser bridge route. */
export type AppCallName = keyof typeof appCalls;
/** The arguments of a call, as its schema yields them. */
export type CallArgs<K extends AppCallName> = z.output<(typeof appCalls)[K]['args']>;

// Object.keys types its answer as string[]; these are exactly the table's keys.
export const APP_CALLS = Object.keys(appCalls) as AppCallName[];

export type ParsedCall =
  | { [K in AppCallName]: { ok: true; call: K; args: CallArgs<K> } }[AppCallName]
  | { ok: false; error: AppError };

function isAppCall(call: unknown): call is AppCallName {
  return typeof call === 'string' && Object.hasOwn(appCalls, call);
}

/**
 * Validates a call by name and its argument list; the error says which argument is wrong and why.
 * Both come straight from a window, so neither is trusted to be what it claims.
 */
export function parseCall(call: unknown, args: unknown): ParsedCall {
  if (!isAppCall(call)) {
    return invalid(typeof call === 'string' ? `unknown call "${call.slice(0, 40)}"` : `a call name is a string, not ${typeof call}`);
  }
  const parsed = appCalls[call].args.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return invalid(`${call}: ${describePath(issue?.path ?? [])}${issue?.message ?? 'invalid arguments'}`);
  }
  return { ok: true, call, args: parsed.data } as ParsedCall;
}

function describePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '';
  const [first, ...rest] = path;
  const argument = typeof first === 'number' ? `argument ${first + 1}` : String(first);
  return [argument, ...rest.map(String)].join('.') + ': ';
}

function invalid(message: string): ParsedCall {
  return { ok: false, error: { code: AppErrorCode.INVALID_ARGUMENT, message } };
}
