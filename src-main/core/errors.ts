/**
 * What the user reads when something fails: protocol and client errors turned
 * into AppErrors whose message names the host and says what to do next.
 */
import { type AppError, AppErrorCode, type Result } from '../../src-shared/api.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { ClientError, FingerprintChangedError } from '../client/errors.js';
import { StoreOpenError } from '../store/store.js';
import { E2eeUnavailable } from './e2ee-messaging.js';
import { UNENCRYPTED } from './pins.js';

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(code: string, message: string): { ok: false; error: AppError } {
  return { ok: false, error: { code, message } };
}

export const NOT_HOSTING: Result<never> = fail(AppErrorCode.NOT_HOSTING, 'This app is not hosting a room');
/** How a message its sender gave up on ends (cancelUnsent). */
export const CANCELLED_BY_YOU: AppError = { code: AppErrorCode.CANCELLED, message: 'You cancelled it: not sent' };
/** cancelUnsent of a message that went out on a connection that dropped before the host's answer. */
export const MAYBE_SENT: Result<never> = fail(
  AppErrorCode.MAYBE_SENT,
  'It may have reached the room before the connection dropped: it goes again once the room is back, and you can delete it then',
);
/** cancelUnsent of a message that is not kept to send (any more). */
export const NOT_UNSENT: Result<never> = fail(AppErrorCode.INVALID_ARGUMENT, 'That message is not waiting to be sent: it went, or it ended');

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function describeHostError(error: unknown, port: number): AppError {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return { code: AppErrorCode.PORT_IN_USE, message: `Port ${port} is already in use on this computer; choose another port` };
  }
  if (error instanceof StoreOpenError) {
    return {
      code: AppErrorCode.DATABASE_UNUSABLE,
      message: `Could not start the room server: ${error.message}. The file was left as it is; move it away or restore a backup to host again`,
    };
  }
  return { code: 'INTERNAL', message: `Could not start the room server: ${messageOf(error)}` };
}

/**
 * The room at an address not entered before calls itself like a room entered before, and is not shown
 * to be it: joining stops before the login, as SSH stops at a changed key for a known name.
 */
export class LookalikeRoomError extends Error {
  constructor(
    readonly roomName: string,
    /** The fingerprint of the room entered before under that name. */
    readonly known: string,
    /** What the room at this address presented; null without TLS. */
    readonly presented: string | null,
  ) {
    super(`another room calls itself "${roomName}"`);
  }
}

export function describeConnectError(error: unknown, where: string, pinned: string | undefined, announced?: string): AppError {
  if (error instanceof LookalikeRoomError) {
    const { roomName, known, presented } = error;
    return {
      code: AppErrorCode.LOOKALIKE_ROOM,
      message:
        `Another room calls itself "${roomName}" at ${where}: it is not the room you joined under that name (fingerprint ${known}); ` +
        `this one ${presented === null ? 'is not encrypted' : `presents ${presented}`}. Nothing was sent. ` +
        'Join it only if you know it is a different room.',
      lookalike: { roomName, known, presented },
    };
  }
  if (error instanceof FingerprintChangedError && (pinned === undefined || pinned === UNENCRYPTED) && error.expected === announced) {
    return {
      code: AppErrorCode.FINGERPRINT_CHANGED,
      message:
        `${where} is not the room that was announced: the announcement gave fingerprint ${error.expected}, its certificate has ${error.actual}. ` +
        'Someone on the network may be impersonating the host. Nothing was sent. Trust this fingerprint only if the host confirms it.',
      fingerprints: { pinned: error.expected, presented: error.actual, announced: true },
    };
  }
  if (error instanceof FingerprintChangedError) {
    return {
      code: AppErrorCode.FINGERPRINT_CHANGED,
      message:
        `The identity of ${where} has changed: its certificate fingerprint is now ${error.actual}, not ${error.expected} as before. ` +
        'Someone on the network may be impersonating the host. Nothing was sent. Trust the new fingerprint only if the host confirms it.',
      fingerprints: { pinned: error.expected, presented: error.actual },
    };
  }
  if (!(error instanceof ClientError)) return { code: 'INTERNAL', message: `Could not join ${where}: ${messageOf(error)}` };
  switch (error.code) {
    case 'TLS_UNAVAILABLE':
      return {
        code: AppErrorCode.NOT_ENCRYPTED,
        message:
          pinned !== undefined && pinned !== UNENCRYPTED
            ? `${where} no longer encrypts its connections, although it did before (fingerprint ${pinned}). ` +
              'Someone on the network may be impersonating the host. Nothing was sent.'
            : `${where} does not encrypt its connections: your password and messages would cross the network readable by others. Nothing was sent.`,
      };
    case ErrorCode.TLS_REQUIRED:
      return { code: error.code, message: `${where} now requires encryption; join again` };
    case 'CONNECT_FAILED':
      return { code: AppErrorCode.CONNECT_FAILED, message: sentence(error.message) };
    case 'TIMEOUT':
      return { code: AppErrorCode.CONNECT_FAILED, message: `${where} did not answer in time; is it a LanChat host?` };
    case 'DISCONNECTED':
      return { code: AppErrorCode.CONNECT_FAILED, message: `${where} closed the connection before the login; is it a LanChat host?` };
    case ErrorCode.PROTOCOL_VERSION:
      return { code: error.code, message: `The host at ${where} runs a LanChat version this app cannot talk to (${error.message})` };
    case ErrorCode.BAD_TOKEN:
      return { code: error.code, message: `The saved session on ${where} has ended; enter the password to log in again` };
    default:
      // WRONG_PASSWORD, NAME_TAKEN, NAME_INVALID…: the server's words name the account and the rule.
      return { code: error.code, message: sentence(error.message) };
  }
}

export function describeRequestError(error: unknown): AppError {
  if (error instanceof E2eeUnavailable) return { code: AppErrorCode.E2EE_UNAVAILABLE, message: error.message };
  if (!(error instanceof ClientError)) return { code: 'INTERNAL', message: messageOf(error) };
  switch (error.code) {
    case 'DISCONNECTED':
    case 'CLOSED':
      return { code: AppErrorCode.NOT_CONNECTED, message: 'Not connected to the room right now' };
    case 'TIMEOUT':
      return { code: error.code, message: 'The host did not answer in time' };
    default:
      return { code: error.code, message: sentence(error.message) };
  }
}
