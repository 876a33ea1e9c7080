/** How the client reports failure: the server's error codes plus the client's own. */
import { ErrorCode } from '../../src-shared/protocol/errors.js';

export type ClientErrorCode =
  | ErrorCode
  | 'CONNECT_FAILED'
  | 'DISCONNECTED'
  | 'TIMEOUT'
  | 'CLOSED'
  /** The host's certificate is not the pinned one (see FingerprintChangedError). */
  | 'FINGERPRINT_CHANGED'
  /** The host did not answer with TLS: it runs with encryption off, or is not a LanChat host. */
  | 'TLS_UNAVAILABLE'
  /** The server sent a frame that breaks the protocol; the client closed that connection. */
  | 'PROTOCOL_ERROR'
  /** A file transfer was cancelled by its caller. */
  | 'CANCELLED'
  /** A download could not be saved: this computer's disk is full. */
  | 'DISK_FULL'
  /** A download could not be saved for another reason of this computer's (the message says which). */
  | 'SAVE_FAILED';

export class ClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** With RATE_LIMITED: the server's advice on when to try again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The host presented another certificate than the pinned one; nothing was sent to it. */
export class FingerprintChangedError extends ClientError {
  constructor(
    readonly expected: string,
    readonly actual: string,
    where: string,
  ) {
    super(
      'FINGERPRINT_CHANGED',
      `the certificate of ${where} changed: expected fingerprint ${expected}, got ${actual}. ` +
        'Someone may be impersonating the host; accept the new fingerprint only if the host confirms it',
    );
  }
}

/** Errors that another attempt cannot fix: the client stops instead of retrying. */
export const FATAL_CODES: ReadonlySet<ClientErrorCode> = new Set<ClientErrorCode>([
  ErrorCode.BAD_TOKEN,
  ErrorCode.WRONG_PASSWORD,
  ErrorCode.PROTOCOL_VERSION,
  ErrorCode.TLS_REQUIRED,
  ErrorCode.BANNED,
  'FINGERPRINT_CHANGED',
  'TLS_UNAVAILABLE',
]);
