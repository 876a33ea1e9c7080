/**
 * Schemas for the arguments of every App API call. Both shells hand the core
 * whatever a window sent (IPC or the browser bridge); parseCall is the gate
 * that turns it into typed arguments or a Result error, so nothing unvalidated
 * reaches the core.
 */
import { z } from 'zod';
import { APP_CALLS, type AppApi, type AppCallName, type AppError, AppErrorCode, type Settings } from './api.js';
import { ACCESS_MODES, LIMITS, conversationKey, target } from './protocol.js';

/**
 * An optional trailing argument. JSON turns an `undefined` array slot into
 * `null`, so over the bridge `history(conv, undefined, 50)` arrives as
 * `["room", null, 50]`; null is read as "not given".
 */
function optionalArgument<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}

// The server applies the real name rules; these bounds only keep absurd input out.
const userName = z.string().min(1).max(LIMITS.maxNameLength * 4);
const groupName = z.string().min(1).max(LIMITS.maxGroupNameLength * 4);
const groupId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const messageId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const pageLimit = z.number().int().min(1).max(LIMITS.maxPageSize);
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

export const settingsSchema = z.strictObject({
  lastHost: z.string().max(253),
  lastPort: z.number().int().min(0).max(65535),
  lastName: z.string().max(LIMITS.maxNameLength * 4),
  lastRoomName: z.string().max(64),
  language: z.enum(['en', 'tr', 'system']),
  theme: z.enum(['system', 'light', 'dark']),
  notifications: z.boolean(),
}) satisfies z.ZodType<Settings>;

/** As the app shows it: SHA-256, 32 upper-case hex bytes joined by colons. */
const fingerprint = z.string().regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'a fingerprint is 32 hex bytes joined by colons');
const passphrase = z.string().min(1, 'enter the room passphrase').max(LIMITS.maxPassphraseLength);
const newPassword = z.string().min(LIMITS.minPasswordLength, 'a password cannot be empty').max(LIMITS.maxPasswordLength);
const address = z.string().trim().min(1).max(64);

export const hostRequestSchema = z
  .strictObject({
    roomName,
    port: hostPort,
    name: userName,
    password,
    tls: z.boolean().optional(),
    access: z.enum(ACCESS_MODES).optional(),
    passphrase: passphrase.optional(),
    announce: z.boolean().optional(),
  })
  .refine((request) => request.access !== 'passphrase' || request.passphrase !== undefined, {
    message: 'a room that asks for a passphrase needs one',
    path: ['passphrase'],
  });
export const joinRequestSchema = z.strictObject({
  host: hostName,
  port: joinPort,
  name: userName,
  password,
  passphrase: passphrase.optional(),
  acceptFingerprint: fingerprint.optional(),
  allowUnencrypted: z.boolean().optional(),
  announcedFingerprint: fingerprint.optional(),
});

export const hostAdminActionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('kick'), user: userName }),
  z.strictObject({ kind: z.literal('ban'), user: userName }),
  z.strictObject({ kind: z.literal('banAddress'), address }),
  z.strictObject({ kind: z.literal('unban'), user: userName }),
  z.strictObject({ kind: z.literal('unbanAddress'), address }),
  z.strictObject({ kind: z.literal('mute'), user: userName, minutes: z.number().positive().max(60 * 24 * 365).optional() }),
  z.strictObject({ kind: z.literal('unmute'), user: userName }),
  z.strictObject({ kind: z.literal('approve'), user: userName }),
  z.strictObject({ kind: z.literal('reject'), user: userName }),
  z.strictObject({ kind: z.literal('resetPassword'), user: userName, password: newPassword.optional() }),
]);

const noArguments = z.tuple([]);

/** The argument list of each call, in the order of the AppApi method's parameters. */
const callSchemas = {
  host: z.tuple([hostRequestSchema]),
  stopHosting: noArguments,
  join: z.tuple([joinRequestSchema]),
  nearbyRooms: noArguments,
  leave: noArguments,
  session: noArguments,
  send: z.tuple([target, z.string().min(1, 'a message cannot be empty').max(LIMITS.maxTextLength)]),
  unsent: noArguments,
  history: z.tuple([conversationKey, optionalArgument(messageId), optionalArgument(pageLimit)]),
  search: z.tuple([z.string().max(LIMITS.maxSearchLength), optionalArgument(userName), optionalArgument(messageId)]),
  users: noArguments,
  contacts: noArguments,
  chatRequest: z.tuple([userName]),
  chatAnswer: z.tuple([userName, z.boolean()]),
  chatLeave: z.tuple([userName]),
  groups: noArguments,
  groupCreate: z.tuple([groupName]),
  groupRename: z.tuple([groupId, groupName]),
  groupDelete: z.tuple([groupId]),
  groupAddMember: z.tuple([groupId, userName]),
  groupRemoveMember: z.tuple([groupId, userName]),
  hostUsers: noArguments,
  hostLog: noArguments,
  hostPending: noArguments,
  hostBans: noArguments,
  hostAdmin: z.tuple([hostAdminActionSchema]),
  changePassword: z.tuple([newPassword, newPassword]),
  settings: noArguments,
  updateSettings: z.tuple([settingsSchema.partial()]),
  openChatWindow: z.tuple([conversationKey]),
} satisfies Record<AppCallName, z.ZodType<unknown[]>>;

/** The arguments of a call, as the AppApi method declares them. */
export type CallArgs<K extends AppCallName> = Parameters<AppApi[K]>;

// Compile-time proof that every schema yields exactly what its method takes:
// a mismatch names the call in the type error.
type MismatchedCalls = {
  [K in AppCallName]: z.output<(typeof callSchemas)[K]> extends CallArgs<K>
    ? CallArgs<K> extends z.output<(typeof callSchemas)[K]>
      ? never
      : K
    : K;
}[AppCallName];
const everySchemaMatchesItsMethod: [MismatchedCalls] extends [never] ? true : MismatchedCalls = true;
void everySchemaMatchesItsMethod;

export type ParsedCall =
  | { [K in AppCallName]: { ok: true; call: K; args: CallArgs<K> } }[AppCallName]
  | { ok: false; error: AppError };

export function isAppCall(call: unknown): call is AppCallName {
  return typeof call === 'string' && (APP_CALLS as readonly string[]).includes(call);
}

/**
 * Validates a call by name and its argument list; the error says which argument is wrong and why.
 * Both come straight from a window, so neither is trusted to be what it claims.
 */
export function parseCall(call: unknown, args: unknown): ParsedCall {
  if (!isAppCall(call)) {
    return invalid(typeof call === 'string' ? `unknown call "${call.slice(0, 40)}"` : `a call name is a string, not ${typeof call}`);
  }
  const parsed = callSchemas[call].safeParse(args);
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
