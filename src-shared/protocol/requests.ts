/**
 * Every request of the protocol in ONE table: its parameters (the frame's fields
 * besides type and id, checked strictly) and its result. The server's handlers,
 * the client's request() and docs/protocol.schema.json are all typed from it.
 */
import { z } from 'zod';
import { ErrorCode, type WireError, wireError } from './errors.js';
import { LIMITS } from './limits.js';
import {
  attachmentRef,
  chatMessage,
  contact,
  conversationKey,
  groupId,
  groupInfo,
  groupName,
  messageId,
  historyPage,
  messagePage,
  nameField,
  pageLimit,
  passphrase,
  password,
  searchPage,
  target,
  userInfo,
} from './objects.js';

const requestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const nothing = z.object({});
const noParams = z.strictObject({});
const group = z.object({ group: groupInfo });

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
      heartbeatMs: z.number().int().positive(),
      maxFrameBytes: z.number().int().positive(),
      maxTextLength: z.number().int().positive(),
      // files (issue 13): absent from 1.0 hosts
      /** Optional capabilities of this host, such as "files". */
      features: z.array(z.string()).optional(),
      /** Limits in force, in bytes. */
      limits: z
        .object({
          maxFileBytes: z.number().int().positive().optional(),
          maxFileStorageBytes: z.number().int().positive().optional(),
          maxFileBytesPerDay: z.number().int().positive().optional(),
        })
        .optional(),
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
  groupCreate: request(z.strictObject({ name: groupName }), group),
  groupRename: request(z.strictObject({ groupId, name: groupName }), group),
  groupDelete: request(z.strictObject({ groupId }), nothing),
  groupAddMember: request(z.strictObject({ groupId, user: nameField }), group),
  groupRemoveMember: request(z.strictObject({ groupId, user: nameField }), group),
  groupInfo: request(z.strictObject({ groupId }), group),
};

export type RequestType = keyof typeof requests;
export type RequestBody<T extends RequestType> = z.infer<(typeof requests)[T]['params']>;
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
  // After the schema, whose shapes bound the depth; a replacement keeps every length in code points.
  return { ok: true, request: { type, id, ...(wellFormed(parsed.data) as object) } as Request };
}

/**
 * Every string with each lone surrogate replaced by one U+FFFD (docs/PROTOCOL.md §7): stored, echoed and
 * pushed texts are then the same, valid UTF-8, and as many code points long as what was sent.
 */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\p{Cs}/gu, '\ufffd');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, wellFormed(inner)]));
  }
  return value;
}

/** "path: what is wrong" for the first problem zod found. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'frame';
  return `${where}: ${issue?.message ?? 'invalid'}`;
}
