/**
 * Every request of the protocol in ONE table: its parameters (the frame's fields
 * besides type and id, checked strictly) and its result. The server's handlers,
 * the client's request() and docs/protocol.schema.json are all typed from it.
 */
import { z } from 'zod';
import { ErrorCode, type WireError, wireError } from './errors.js';
import { LIMITS } from './limits.js';
import { E2EE_LIMITS, applicationBytes, claimedDevice, deviceId, deviceRef, handshakeBytes, keyPackage, listedUser, mlsFrame, mlsFramePage, signatureKey } from './e2ee.js';
import { callInfo, callSignal, endpointId } from './calls.js';
import {
  attachmentRef,
  callId,
  chatMessage,
  contact,
  fileId,
  conversationKey,
  eventId,
  eventPage,
  groupId,
  groupInfo,
  groupInvitation,
  groupName,
  messageId,
  historyPage,
  messagePage,
  nameField,
  pageLimit,
  passphrase,
  password,
  reactionEmoji,
  readState,
  receipt,
  searchPage,
  target,
  userInfo,
} from './objects.js';

const requestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const nothing = z.object({});
const noParams = z.strictObject({});
const group = z.object({ group: groupInfo });
/** The most members one groupCreate may invite; the room's members-per-group limit is checked besides. */
const MAX_INVITED_AT_ONCE = 1000;

const count = z.number().int().positive();
/** A token bucket: `burst` at once, then `perSecond` more each second; null when the host turned it off. */
const fastRate = z.object({ perSecond: z.number().positive(), burst: count }).nullable();
/** The same for rare events, per minute. */
const slowRate = z.object({ perMinute: z.number().positive(), burst: count });

/**
 * Every limit a client may need to adapt to, as hello announces it (PROTOCOL.md §15 is
 * the table of the same names). Not strict: a later 1.x server may announce more.
 */
export const serverLimits = z.object({
  maxFrameBytes: count,
  maxQueuedBytes: count,
  maxTextLength: count,
  maxClientMsgIdLength: count,
  maxNameLength: count,
  maxGroupNameLength: count,
  maxPasswordLength: count,
  maxPassphraseLength: count,
  maxSearchLength: count,
  maxPageSize: count,
  defaultPageSize: count,
  maxGroupsPerOwner: count,
  maxGroupMembers: count,
  maxPendingAccounts: count,
  /** Bytes of message text (UTF-8) one user may store per UTC day; null: no quota. */
  maxUserBytesPerDay: count.nullable(),
  heartbeatMs: count,
  loginTimeoutMs: count,
  frameTimeoutMs: count,
  maxBadFrames: count,
  expensiveRequestsPerUser: count,
  freeLoginFailures: count,
  loginDelayMs: count,
  maxLoginDelayMs: count,
  frameRate: fastRate,
  byteRate: fastRate,
  accountLoginRate: slowRate,
  registrationRate: slowRate,
  addressRegistrationRate: slowRate,
  /** Edits, deletes and reactions of one user (§17); absent from hosts older than the limit, which have none. */
  changeRate: slowRate.optional(),
  // Conversation changes (§17).
  /** How long after sending its sender may edit a message; null: no limit. */
  editWindowMs: count.nullable(),
  typingIntervalMs: count,
  maxReactionsPerUser: count,
  // Files (§18): only from a host that lists "files".
  maxFileBytes: count.optional(),
  maxFileStorageBytes: count.optional(),
  maxFileBytesPerDay: count.optional(),
  maxTransfersPerUser: count.optional(),
  maxUnfinishedUploadsPerUser: count.optional(),
  maxUnfinishedBytesPerUser: count.optional(),
  // Calls (§21): only from a host that lists "calls".
  /** Endpoints one voice call may hold (a mesh: each sends its media to every other). */
  maxCallParticipants: count.optional(),
  /** Endpoints one video call may hold. */
  maxVideoCallParticipants: count.optional(),
  /** How long a call rings with nobody joining before it ends as missed. */
  callRingMs: count.optional(),
  /** How long an endpoint whose connection closed stays in its call, for its client to come back with callJoin. */
  callReconnectGraceMs: count.optional(),
  /** Signals one connection may send per second (callSignal), and at once. */
  callSignalRate: fastRate.optional(),
});

function request<P extends z.ZodType, R extends z.ZodType>(params: P, result: R) {
  return { params, result };
}

export const requests = {
  hello: request(
    z.strictObject({
      protocol: z.string().regex(/^\d{1,4}\.\d{1,4}$/),
      client: z.string().max(100).optional(),
    }),
    z.object({
      protocol: z.string(),
      server: z.string(),
      room: z.string(),
      /** The next three are in `limits` too; kept for 1.0 clients. */
      heartbeatMs: z.number().int().positive(),
      maxFrameBytes: z.number().int().positive(),
      maxTextLength: z.number().int().positive(),
      /** Since 1.1; a 1.0 server sends none. */
      limits: serverLimits.optional(),
      /** Since 1.1: the optional capabilities this server has (CONVERSATION_FEATURES, ...). */
      features: z.array(z.string()).optional(),
    }),
  ),
  login: request(
    z
      .strictObject({
        name: nameField,
        password: password.optional(),
        token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a session token').optional(),
        /** The room passphrase; only looked at when this login registers a new account in passphrase mode. */
        passphrase: passphrase.optional(),
        /** false: never register; an unknown name answers UNKNOWN_USER (a retry while waiting for approval). */
        create: z.boolean().optional(),
      })
      .refine((body) => (body.password === undefined) !== (body.token === undefined), {
        message: 'give either "password" or "token"',
      })
      .meta({ description: 'Exactly one of password (the first login registers the name) or token (from an earlier login).' }),
    z.object({
      name: z.string(),
      registered: z.boolean(),
      /** Resumes this account without the password (login with token); valid until logout. */
      token: z.string(),
      /** Highest message id on the server now. */
      lastMessageId: messageId,
      /** Highest message id this account had been sent when it last went offline: sync from here if you keep no state. */
      deliveredUpTo: messageId,
      /** Protocol 1.1: the newest event id now; catch up later with events from here (§17). */
      lastEventId: eventId.optional(),
    }),
  ),
  logout: request(noParams, nothing),
  changePassword: request(z.strictObject({ current: password, password }), nothing),
  send: request(
    z
      .strictObject({
        clientMsgId: z.string().min(1).max(LIMITS.maxClientMsgIdLength),
        to: target,
        text: z.string().max(LIMITS.maxTextLength),
        /** Protocol 1.1: the id of a message of the same conversation this one answers. */
        replyTo: messageId.optional(),
        // files (issue 13)
        /** Uploaded files to send with it (§18); the text is then their caption and may be empty. */
        attachments: z.array(attachmentRef).min(1).max(LIMITS.maxAttachments).optional(),
      })
      .refine((body) => body.text.length > 0 || body.attachments !== undefined, {
        path: ['text'],
        message: 'a message without attachments needs a text of at least 1 character',
      }),
    /** delivered: the message was written to at least one other person's online device. */
    z.object({ message: chatMessage, duplicate: z.boolean(), delivered: z.boolean() }),
  ),
  history: request(
    z.strictObject({ conv: conversationKey, before: messageId.optional(), limit: pageLimit.optional() }),
    historyPage,
  ),
  sync: request(z.strictObject({ after: messageId, limit: pageLimit.optional() }), messagePage),
  users: request(noParams, z.object({ users: z.array(userInfo) })),
  contacts: request(noParams, z.object({ contacts: z.array(contact) })),
  search: request(
    z.strictObject({
      query: z.string().max(LIMITS.maxSearchLength),
      person: nameField.optional(),
      before: messageId.optional(),
      limit: pageLimit.optional(),
    }),
    searchPage,
  ),
  chatRequest: request(z.strictObject({ user: nameField }), z.object({ contact })),
  chatAnswer: request(z.strictObject({ user: nameField, accept: z.boolean() }), z.object({ contact })),
  chatLeave: request(z.strictObject({ user: nameField }), nothing),
  groups: request(noParams, z.object({ groups: z.array(groupInfo) })),
  groupCreate: request(
    /** members: users to invite at once (§7.14). */
    z.strictObject({ name: groupName, members: z.array(nameField).max(MAX_INVITED_AT_ONCE).optional() }),
    group,
  ),
  groupRename: request(z.strictObject({ groupId, name: groupName }), group),
  groupDelete: request(z.strictObject({ groupId }), nothing),
  groupAddMember: request(z.strictObject({ groupId, user: nameField }), group),
  groupRemoveMember: request(z.strictObject({ groupId, user: nameField }), group),
  groupInfo: request(z.strictObject({ groupId }), group),
  // groups: invitations (docs/PROTOCOL.md §7.20, §7.21)
  groupInvitations: request(noParams, z.object({ invitations: z.array(groupInvitation) })),
  /** group: the group you joined, when you accepted. */
  groupAnswer: request(z.strictObject({ groupId, accept: z.boolean() }), z.object({ group: groupInfo.optional() })),
  // Conversation changes (protocol 1.1, docs/PROTOCOL.md §17). A message is named by messageId: id is the frame's.
  /** Replaces the text of your own message. */
  edit: request(z.strictObject({ messageId, text: z.string().min(1).max(LIMITS.maxTextLength) }), z.object({ message: chatMessage })),
  /** Deletes your own message for everyone (the host: any message it can read). */
  delete: request(z.strictObject({ messageId }), z.object({ message: chatMessage })),
  /** Adds (on: true) or removes your reaction with one emoji. */
  react: request(z.strictObject({ messageId, emoji: reactionEmoji, on: z.boolean() }), z.object({ message: chatMessage })),
  /** Moves your read position in conv forward to upTo (never back); the result is the position now. */
  read: request(z.strictObject({ conv: conversationKey, upTo: messageId }), z.object({ upTo: messageId })),
  /** Your read position and unread counts in every conversation you can read. */
  readState: request(noParams, z.object({ conversations: z.array(readState) })),
  /** The other readers' positions in conv, for read receipts. */
  receipts: request(z.strictObject({ conv: conversationKey }), z.object({ receipts: z.array(receipt) })),
  /** Says you are typing in conv; the server forwards it to the other readers. */
  typing: request(z.strictObject({ conv: conversationKey }), nothing),
  /** Reads, and with a field changes, your privacy settings (kept by the server for all your sessions). */
  privacy: request(z.strictObject({ sendReadReceipts: z.boolean().optional() }), z.object({ sendReadReceipts: z.boolean() })),
  /** The event log after an event id, oldest first: what changed in your conversations while you were away. */
  events: request(z.strictObject({ after: eventId, limit: pageLimit.optional() }), eventPage),
  // End-to-end encryption (issue 35, docs/PROTOCOL.md §20).
  /**
   * Registers one of your devices and its signature key (again: the same key only); userId goes in its MLS
   * credential. keyPackages: how many the host keeps of it; lastResort: whether it has its last-resort one
   * (absent: a host older than those, which takes none).
   */
  deviceRegister: request(
    z.strictObject({ deviceId, signatureKey }),
    z.object({ userId: z.number().int().positive(), keyPackages: z.number().int().min(0), lastResort: z.boolean().optional() }),
  ),
  /**
   * Key packages of your device for the host to keep until someone adds it, and the one to hand out when none
   * is left (lastResort, which replaces the one before); the result is how many it keeps now, that one not counted.
   */
  keyPackagesUpload: request(
    z.strictObject({ deviceId, keyPackages: z.array(keyPackage).min(1).max(E2EE_LIMITS.maxKeyPackagesPerUpload), lastResort: keyPackage.optional() }),
    z.object({ keyPackages: z.number().int().min(0) }),
  ),
  /**
   * Every device of the user, each with one of its key packages, which the host gives nobody else (unless it is the device's
   * last-resort one); with `devices`, only those named get one: a user's new app is added without spending their others'.
   */
  keyPackagesClaim: request(
    z.strictObject({ user: nameField, devices: z.array(deviceId).min(1).max(E2EE_LIMITS.maxDevicesPerUser).optional() }),
    z.object({ devices: z.array(claimedDevice) }),
  ),
  /** The devices of each named user that exists, claiming nothing: how a device finds those its groups lack. */
  deviceList: request(z.strictObject({ users: z.array(nameField).min(1).max(E2EE_LIMITS.maxListedUsers) }), z.object({ users: z.array(listedUser) })),
  /** A commit of your device for the conversation's current epoch; welcome and added go together. */
  mlsCommit: request(
    z
      .strictObject({
        conv: conversationKey,
        deviceId,
        commit: handshakeBytes,
        welcome: handshakeBytes.optional(),
        added: z.array(deviceRef).min(1).max(E2EE_LIMITS.maxAddedDevices).optional(),
      })
      .refine((body) => (body.welcome === undefined) === (body.added === undefined), {
        path: ['welcome'],
        message: 'give "welcome" and "added" together, or neither',
      }),
    z.object({ frame: mlsFrame }),
  ),
  /** An encrypted application message of your device; `files` it carries, `deleteFiles` of your earlier ones it deletes. */
  mlsSend: request(
    z.strictObject({
      conv: conversationKey,
      deviceId,
      clientMsgId: z.string().min(1).max(LIMITS.maxClientMsgIdLength),
      data: applicationBytes,
      files: z.array(fileId).min(1).max(LIMITS.maxAttachments).optional(),
      deleteFiles: z.array(fileId).min(1).max(LIMITS.maxAttachments).optional(),
    }),
    /** delivered: as `send`'s, the frame was pushed to at least one other reader's online session. */
    z.object({ frame: mlsFrame, duplicate: z.boolean(), delivered: z.boolean() }),
  ),
  /** The MLS frames after a frame id that you may read now, oldest first. */
  mlsSync: request(z.strictObject({ after: messageId, limit: pageLimit.optional() }), mlsFramePage),
  // Calls (issue 39, docs/PROTOCOL.md §21).
  /** Starts a call in a direct conversation or group, or joins the one already there; endpoint: yours in it. */
  callStart: request(z.strictObject({ conv: conversationKey, video: z.boolean() }), z.object({ call: callInfo, endpoint: endpointId })),
  /** Joins a call of your conversation (answers a ring); with `endpoint`, your endpoint whose connection closed comes back. */
  callJoin: request(z.strictObject({ callId, endpoint: endpointId.optional() }), z.object({ call: callInfo, endpoint: endpointId })),
  /** Declines a call ringing for you (your other devices stop ringing). */
  callDecline: request(z.strictObject({ callId }), nothing),
  /** Leaves a call: every endpoint of this connection in it. */
  callLeave: request(z.strictObject({ callId }), nothing),
  /** Relays a signal from your endpoint in the call to another endpoint of it. */
  callSignal: request(z.strictObject({ callId, to: endpointId, signal: callSignal }), nothing),
  /** The calls ringing or active in your conversations now. */
  calls: request(noParams, z.object({ calls: z.array(callInfo) })),
};

export type RequestType = keyof typeof requests;
export type RequestBody<T extends RequestType> = z.infer<(typeof requests)[T]['params']>;
export type ServerLimits = z.infer<typeof serverLimits>;
export type RequestResults = { [K in RequestType]: z.infer<(typeof requests)[K]['result']> };
export type Request<T extends RequestType = RequestType> = { [K in T]: { type: K; id: number } & RequestBody<K> }[T];

export type ResponseFrame<T extends RequestType = RequestType> =
  | { type: 'res'; id: number; ok: true; result: RequestResults[T] }
  | { type: 'res'; id: number; ok: false; error: WireError };

/** A response as the client first reads it: the result is checked against its request's schema next. */
export const responseFrame = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('res'), id: requestId, ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal('res'), id: requestId, ok: z.literal(false), error: wireError }),
]);

function isRequestType(type: string): type is RequestType {
  return Object.hasOwn(requests, type);
}

/** Parsed and validated form of a request frame, or why it was refused. */
export type ParsedRequest = { ok: true; request: Request } | { ok: false; id: number | null; error: WireError };

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
  const parsed = requests[type].params.safeParse(body);
  if (!parsed.success) {
    return { ok: false, id, error: { code: ErrorCode.BAD_REQUEST, message: `${type}: ${describeIssue(parsed.error)}` } };
  }
  // After the schema, whose shapes bound the depth.
  const data = parsed.data as Record<string, unknown>;
  const cleaned = typeof data['text'] === 'string' && CLEANED_TEXT.has(type) ? { ...data, text: data['text'].replace(LONE_SURROGATES, '\ufffd') } : data;
  const where = loneSurrogateIn(cleaned, []);
  if (where !== null) {
    const message = `${type}: ${where}: a lone surrogate (half of a UTF-16 pair) is allowed only in a message text`;
    return { ok: false, id, error: { code: ErrorCode.BAD_REQUEST, message } };
  }
  return { ok: true, request: { type, id, ...cleaned } as Request };
}

/**
 * docs/PROTOCOL.md §7: in a message's text each lone surrogate becomes one U+FFFD, so stored, echoed and
 * pushed texts are the same, valid UTF-8, and as many code points long as what was sent. Anywhere else
 * (ids, passwords, names) a replacement would make two different strings one, so it is refused.
 */
const CLEANED_TEXT: ReadonlySet<string> = new Set<RequestType>(['send', 'edit']);
const LONE_SURROGATES = /\p{Cs}/gu;

/** The path of the first string holding a lone surrogate, or null. */
function loneSurrogateIn(value: unknown, path: (string | number)[]): string | null {
  if (typeof value === 'string') return /\p{Cs}/u.test(value) ? path.join('.') : null;
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, inner] of Object.entries(value)) {
    const found = loneSurrogateIn(inner, [...path, key]);
    if (found !== null) return found;
  }
  return null;
}

/** "path: what is wrong" for the first problem zod found. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'frame';
  return `${where}: ${issue?.message ?? 'invalid'}`;
}
