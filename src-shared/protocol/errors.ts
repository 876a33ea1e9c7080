/** Error codes and the error object carried by failed responses, `error` pushes and `bye` frames. */
import { z } from 'zod';

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
  /** The user declined your invitation to this group, or left it: they cannot be invited to it again. */
  INVITATION_DECLINED: 'INVITATION_DECLINED',
  /** A host-configured limit (groups per owner, members per group) is reached. */
  LIMIT_REACHED: 'LIMIT_REACHED',
  /** Closing reasons, sent in a bye frame (SLOW_CONSUMER only reaches the log: that client is not reading). */
  HEARTBEAT_TIMEOUT: 'HEARTBEAT_TIMEOUT',
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  /** A frame was started but not finished in time. */
  FRAME_TIMEOUT: 'FRAME_TIMEOUT',
  TOO_MANY_ERRORS: 'TOO_MANY_ERRORS',
  SERVER_SHUTDOWN: 'SERVER_SHUTDOWN',
  /** This node of the room is stopping: reconnect at once to another of the room's addresses (docs/PROTOCOL.md §19). */
  SERVER_DRAINING: 'SERVER_DRAINING',
  LOGGED_OUT: 'LOGGED_OUT',
  /** A plaintext connection to a host that requires TLS: sent unencrypted, then the host closes. */
  TLS_REQUIRED: 'TLS_REQUIRED',
  /** The host disconnected this user. */
  KICKED: 'KICKED',
  /** The account's password changed (by its owner elsewhere or by the host): log in with the new one. */
  PASSWORD_CHANGED: 'PASSWORD_CHANGED',
  // Conversation changes (protocol 1.1, docs/PROTOCOL.md §17).
  /** No message with that id in a conversation you can read. */
  UNKNOWN_MESSAGE: 'UNKNOWN_MESSAGE',
  /** Only the sender may edit a message, or delete it (the host may delete any it can read). */
  NOT_YOUR_MESSAGE: 'NOT_YOUR_MESSAGE',
  /** The message was deleted: it cannot be edited, reacted to or answered. */
  MESSAGE_DELETED: 'MESSAGE_DELETED',
  /** The host limits how long after sending a message may be edited, and that time has passed. */
  EDIT_WINDOW_CLOSED: 'EDIT_WINDOW_CLOSED',
  INTERNAL: 'INTERNAL',
  // files (issue 13, docs/PROTOCOL.md §18)
  /** The file is larger than the host allows (hello limits.maxFileBytes). */
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  /** The uploaded bytes do not have the SHA-256 announced; the partial file was removed. */
  HASH_MISMATCH: 'HASH_MISMATCH',
  /** No such file or upload for you: unknown, expired, not readable by you, or already attached. */
  UNKNOWN_FILE: 'UNKNOWN_FILE',
  // End-to-end encryption (issue 35, docs/PROTOCOL.md §20)
  /** No device of that id is registered to you (or to the user a commit adds it for). */
  UNKNOWN_DEVICE: 'UNKNOWN_DEVICE',
  /** The device id is registered to you with another signature key. */
  DEVICE_TAKEN: 'DEVICE_TAKEN',
  /** Another commit was ordered first for this epoch: drop yours, catch up with mlsSync, commit again. */
  EPOCH_TAKEN: 'EPOCH_TAKEN',
  // Calls (issue 39, docs/PROTOCOL.md §21)
  /** No call of that id in a conversation you may call in: it ended, or never was. */
  UNKNOWN_CALL: 'UNKNOWN_CALL',
  /** The call holds as many endpoints as the host's mesh limit allows (maxCallParticipants, maxVideoCallParticipants). */
  CALL_FULL: 'CALL_FULL',
  /** Your connection has no endpoint in that call, or the endpoint named is not in it. */
  NOT_IN_CALL: 'NOT_IN_CALL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const wireError = z.object({
  code: z.enum(ErrorCode),
  message: z.string(),
  /** With RATE_LIMITED or TOO_MANY_ATTEMPTS: milliseconds to wait before trying again. */
  retryAfterMs: z.number().int().min(1).optional(),
});
export type WireError = z.infer<typeof wireError>;
