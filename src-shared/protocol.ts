/**
 * The wire protocol: every frame type, its fields and its limits, as zod schemas.
 * docs/PROTOCOL.md describes the same thing for people; keep the two in step.
 */
import { z } from 'zod';

export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 0;
export const PROTOCOL_VERSION = `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`;

/** Defaults a host may change; the hello response tells clients the values in force. */
export const LIMITS = {
  /** Largest frame payload in bytes (the 4-byte length prefix not counted). */
  maxFrameBytes: 1024 * 1024,
  /** Longest message text in characters (UTF-16 code units, as JavaScript counts them). */
  maxTextLength: 8000,
  maxNameLength: 32,
  maxGroupNameLength: 48,
  maxPasswordLength: 256,
  minPasswordLength: 1,
  maxPageSize: 200,
  defaultPageSize: 50,
  maxSearchLength: 200,
  maxClientMsgIdLength: 64,
  maxPassphraseLength: 256,
} as const;

/** Who may create a new account: anyone, whoever knows the room passphrase, or anyone once the host approves. */
export const ACCESS_MODES = ['open', 'passphrase', 'approval'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

export const ErrorCode = {
  /** hello carried a protocol major version this server does not speak. */
  PROTOCOL_VERSION: 'PROTOCOL_VERSION',
  /** The frame's payload was not valid UTF-8 JSON of an object. */
  BAD_FRAME: 'BAD_FRAME',
  /** The declared frame length is zero or above the limit; the connection is closed. */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** A frame of a known type with missing or wrong fields. */
  BAD_REQUEST: 'BAD_REQUEST',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  /** The session token is unknown or was ended by logout. */
  BAD_TOKEN: 'BAD_TOKEN',
  HELLO_REQUIRED: 'HELLO_REQUIRED',
  NOT_LOGGED_IN: 'NOT_LOGGED_IN',
  ALREADY_LOGGED_IN: 'ALREADY_LOGGED_IN',
  WRONG_PASSWORD: 'WRONG_PASSWORD',
  NAME_INVALID: 'NAME_INVALID',
  NAME_TAKEN: 'NAME_TAKEN',
  UNKNOWN_USER: 'UNKNOWN_USER',
  UNKNOWN_GROUP: 'UNKNOWN_GROUP',
  UNKNOWN_CONVERSATION: 'UNKNOWN_CONVERSATION',
  GROUP_EXISTS: 'GROUP_EXISTS',
  NOT_GROUP_OWNER: 'NOT_GROUP_OWNER',
  NOT_GROUP_MEMBER: 'NOT_GROUP_MEMBER',
  CHAT_DECLINED: 'CHAT_DECLINED',
  NO_CHAT_REQUEST: 'NO_CHAT_REQUEST',
  INVALID_TARGET: 'INVALID_TARGET',
  /** The connection sent frames or bytes faster than the host allows; the frame was not carried out. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The host ran out of disk space (or its database quota); nothing was stored. */
  STORAGE_FULL: 'STORAGE_FULL',
  /** Registration needs the room passphrase (login field "passphrase") and it was missing or wrong. */
  PASSPHRASE_REQUIRED: 'PASSPHRASE_REQUIRED',
  /** The account exists but waits for the host's approval. */
  PENDING_APPROVAL: 'PENDING_APPROVAL',
  /** Too many failed logins for this name or address; the error carries retryAfterMs. */
  TOO_MANY_ATTEMPTS: 'TOO_MANY_ATTEMPTS',
  /** The host banned this name or address (also a bye reason). */
  BANNED: 'BANNED',
  /** The host muted this user; sends are refused until the mute ends. */
  MUTED: 'MUTED',
  /** A host-configured limit (groups per owner, members per group) is reached. */
  LIMIT_REACHED: 'LIMIT_REACHED',
  /** Closing reasons, sent in a bye frame (SLOW_CONSUMER only reaches the log: that client is not reading). */
  HEARTBEAT_TIMEOUT: 'HEARTBEAT_TIMEOUT',
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  /** A frame was started but not finished in time. */
  FRAME_TIMEOUT: 'FRAME_TIMEOUT',
  TOO_MANY_ERRORS: 'TOO_MANY_ERRORS',
  SERVER_SHUTDOWN: 'SERVER_SHUTDOWN',
  LOGGED_OUT: 'LOGGED_OUT',
  /** A plaintext connection to a host that requires TLS: sent unencrypted, then the host closes. */
  TLS_REQUIRED: 'TLS_REQUIRED',
  /** The host disconnected this user. */
  KICKED: 'KICKED',
  /** The account's password changed (by its owner elsewhere or by the host): log in with the new one. */
  PASSWORD_CHANGED: 'PASSWORD_CHANGED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface WireError {
  code: ErrorCode;
  message: string;
  /** With RATE_LIMITED or TOO_MANY_ATTEMPTS: milliseconds to wait before trying again. */
  retryAfterMs?: number;
}

// ---------------------------------------------------------------- shared pieces

const requestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const messageId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const nameField = z.string().min(1).max(LIMITS.maxNameLength * 4);
const groupId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const groupName = z.string().min(1).max(LIMITS.maxGroupNameLength * 4);
const pageLimit = z.number().int().min(1).max(LIMITS.maxPageSize);

/** A conversation key: "room", "dm:<userId>:<userId>" (smaller id first) or "group:<groupId>". */
export const conversationKey = z
  .string()
  .max(64)
  .regex(/^(room|dm:[1-9]\d{0,15}:[1-9]\d{0,15}|group:[1-9]\d{0,15})$/, 'not a conversation key');
export type ConversationKey = string;

export const target = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('room') }),
  z.strictObject({ kind: z.literal('dm'), user: nameField }),
  z.strictObject({ kind: z.literal('group'), groupId }),
]);
export type Target = z.infer<typeof target>;

// ---------------------------------------------------------------- client → server requests

/** Each request schema, keyed by its frame type. Every request carries `id`. */
export const requestSchemas = {
  hello: z.strictObject({
    protocol: z.string().regex(/^\d{1,4}\.\d{1,4}$/),
    client: z.string().max(100).optional(),
  }),
  /** Exactly one of password (first login registers) or token (from an earlier login). */
  login: z
    .strictObject({
      name: nameField,
      password: z.string().min(LIMITS.minPasswordLength).max(LIMITS.maxPasswordLength).optional(),
      token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a session token').optional(),
      /** The room passphrase; only looked at when this login registers a new account in passphrase mode. */
      passphrase: z.string().min(1).max(LIMITS.maxPassphraseLength).optional(),
      /** false: never register; an unknown name answers UNKNOWN_USER (a retry while waiting for approval). */
      create: z.boolean().optional(),
    })
    .refine((body) => (body.password === undefined) !== (body.token === undefined), {
      message: 'give either "password" or "token"',
    }),
  logout: z.strictObject({}),
  changePassword: z.strictObject({
    current: z.string().min(LIMITS.minPasswordLength).max(LIMITS.maxPasswordLength),
    password: z.string().min(LIMITS.minPasswordLength).max(LIMITS.maxPasswordLength),
  }),
  send: z.strictObject({
    clientMsgId: z.string().min(1).max(LIMITS.maxClientMsgIdLength),
    to: target,
    text: z.string().min(1).max(LIMITS.maxTextLength),
  }),
  history: z.strictObject({
    conv: conversationKey,
    before: messageId.optional(),
    limit: pageLimit.optional(),
  }),
  sync: z.strictObject({
    after: messageId,
    limit: pageLimit.optional(),
  }),
  users: z.strictObject({}),
  contacts: z.strictObject({}),
  search: z.strictObject({
    query: z.string().max(LIMITS.maxSearchLength),
    person: nameField.optional(),
    before: messageId.optional(),
    limit: pageLimit.optional(),
  }),
  chatRequest: z.strictObject({ user: nameField }),
  chatAnswer: z.strictObject({ user: nameField, accept: z.boolean() }),
  chatLeave: z.strictObject({ user: nameField }),
  groups: z.strictObject({}),
  groupCreate: z.strictObject({ name: groupName }),
  groupRename: z.strictObject({ groupId, name: groupName }),
  groupDelete: z.strictObject({ groupId }),
  groupAddMember: z.strictObject({ groupId, user: nameField }),
  groupRemoveMember: z.strictObject({ groupId, user: nameField }),
  groupInfo: z.strictObject({ groupId }),
} as const;

export type RequestType = keyof typeof requestSchemas;
export type RequestBody<T extends RequestType> = z.infer<(typeof requestSchemas)[T]>;
export type Request<T extends RequestType = RequestType> = { [K in T]: { type: K; id: number } & RequestBody<K> }[T];

export function isRequestType(type: string): type is RequestType {
  return Object.hasOwn(requestSchemas, type);
}

export { requestId };

// ---------------------------------------------------------------- domain objects sent by the server

export type MessageKind = 'text';

export interface ChatMessage {
  /** Server id: unique and increasing across the whole server. */
  id: number;
  conv: ConversationKey;
  from: string;
  /** The other party, for direct messages. */
  to?: string;
  groupId?: number;
  text: string;
  /** Server time, milliseconds since the Unix epoch. */
  ts: number;
  /** The sender's own id for this message, echoed so the sender can match it. */
  clientMsgId: string;
}

export interface UserInfo {
  name: string;
  online: boolean;
  /** Last time the user was seen online (ms epoch); null if never. */
  lastSeen: number | null;
}

export type ContactState =
  /** Both can message each other. */
  | 'accepted'
  /** They asked to chat with you; answer with chatAnswer. */
  | 'incoming'
  /** You asked; waiting for their answer. */
  | 'outgoing'
  /** You declined them; they cannot message you until you start a chat. */
  | 'declined-by-me'
  /** They declined you; you cannot message them. */
  | 'declined-by-them';

export interface Contact {
  name: string;
  state: ContactState;
  conv: ConversationKey;
  /** When the state last changed (ms epoch). */
  since: number;
}

export interface GroupInfo {
  id: number;
  name: string;
  owner: string;
  members: string[];
  conv: ConversationKey;
}

export interface SearchHit {
  message: ChatMessage;
}

// ---------------------------------------------------------------- server responses

export interface RequestResults {
  hello: {
    protocol: string;
    server: string;
    room: string;
    heartbeatMs: number;
    maxFrameBytes: number;
    maxTextLength: number;
  };
  login: {
    name: string;
    registered: boolean;
    /** Resumes this account without the password (login with token); valid until logout. */
    token: string;
    /** Highest message id on the server now. */
    lastMessageId: number;
    /** Highest message id this account had been sent when it last went offline: sync from here if you keep no state. */
    deliveredUpTo: number;
  };
  logout: Record<string, never>;
  changePassword: Record<string, never>;
  /** delivered: the message was written to at least one other person's online device. */
  send: { message: ChatMessage; duplicate: boolean; delivered: boolean };
  /** deliveredUpTo: your messages in this conversation up to this id reached another reader. */
  history: { messages: ChatMessage[]; hasMore: boolean; deliveredUpTo: number };
  sync: { messages: ChatMessage[]; hasMore: boolean };
  users: { users: UserInfo[] };
  contacts: { contacts: Contact[] };
  search: { hits: SearchHit[]; hasMore: boolean };
  chatRequest: { contact: Contact };
  chatAnswer: { contact: Contact };
  chatLeave: Record<string, never>;
  groups: { groups: GroupInfo[] };
  groupCreate: { group: GroupInfo };
  groupRename: { group: GroupInfo };
  groupDelete: Record<string, never>;
  groupAddMember: { group: GroupInfo };
  groupRemoveMember: { group: GroupInfo };
  groupInfo: { group: GroupInfo };
}

export type ResponseFrame<T extends RequestType = RequestType> =
  | { type: 'res'; id: number; ok: true; result: RequestResults[T] }
  | { type: 'res'; id: number; ok: false; error: WireError };

// ---------------------------------------------------------------- server pushes

export interface PushFrames {
  message: { type: 'message'; message: ChatMessage };
  presence: { type: 'presence'; user: string; online: boolean; ts: number };
  /** `from` asked `to` for a private chat (also sent to the asker's other connections). */
  chatRequest: { type: 'chatRequest'; from: string; to: string; ts: number };
  /** `from` answered the request of `to`. */
  chatAnswer: { type: 'chatAnswer'; from: string; to: string; accepted: boolean; ts: number };
  /** `user` left the private chat with `with`. */
  chatLeft: { type: 'chatLeft'; user: string; with: string; ts: number };
  /** Your direct messages in conv up to id upTo reached the recipient's device (sent when they catch up with sync). */
  delivered: { type: 'delivered'; conv: ConversationKey; upTo: number };
  group: { type: 'group'; group: GroupInfo };
  groupRemoved: { type: 'groupRemoved'; groupId: number; name: string; reason: 'deleted' | 'removed' };
  error: { type: 'error'; error: WireError };
  bye: { type: 'bye'; error: WireError };
  ping: { type: 'ping' };
  pong: { type: 'pong' };
}
export type PushFrame = PushFrames[keyof PushFrames];
export type ServerFrame = ResponseFrame | PushFrame;

/** Frames a client may send that are not requests (no id, no response). */
export const controlFrameTypes = new Set(['ping', 'pong']);

/** Parsed and validated form of a request frame, or why it was refused. */
export type ParsedRequest =
  | { ok: true; request: Request }
  | { ok: false; id: number | null; error: WireError };

/**
 * Validates a decoded JSON value as a client request. Only the result of this
 * function reaches the server's handlers.
 */
export function parseRequest(value: unknown): ParsedRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, id: null, error: { code: ErrorCode.BAD_FRAME, message: 'a frame must hold a JSON object' } };
  }
  const record = value as Record<string, unknown>;
  const idResult = requestId.safeParse(record.id);
  const id = idResult.success ? idResult.data : null;
  const type = record.type;
  if (typeof type !== 'string') {
    return { ok: false, id, error: { code: ErrorCode.BAD_REQUEST, message: 'field "type" must be a string' } };
  }
  if (!isRequestType(type)) {
    return { ok: false, id, error: { code: ErrorCode.UNKNOWN_TYPE, message: `unknown frame type "${type.slice(0, 40)}"` } };
  }
  if (id === null) {
    return {
      ok: false,
      id: null,
      error: { code: ErrorCode.BAD_REQUEST, message: `"${type}" needs an integer "id" from 0 to 2^53-1` },
    };
  }
  const { type: _type, id: _id, ...body } = record;
  const parsed = requestSchemas[type].safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'frame';
    return {
      ok: false,
      id,
      error: { code: ErrorCode.BAD_REQUEST, message: `${type}: ${where}: ${issue?.message ?? 'invalid'}` },
    };
  }
  return { ok: true, request: { type, id, ...parsed.data } as Request };
}

export function dmConversation(userIdA: number, userIdB: number): ConversationKey {
  return userIdA < userIdB ? `dm:${userIdA}:${userIdB}` : `dm:${userIdB}:${userIdA}`;
}

export function groupConversation(id: number): ConversationKey {
  return `group:${id}`;
}

export const ROOM: ConversationKey = 'room';

/** The port a host offers unless told otherwise. */
export const DEFAULT_PORT = 7171;
