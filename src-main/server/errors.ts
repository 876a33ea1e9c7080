/**
 * How a request ends other than with its handler's result: refused with a ServerError, or answered by
 * its handler itself (ANSWERED, REFUSED). The bottom of the server: every part of it may import this,
 * and it imports only the protocol.
 */
import type { ErrorCode, WireError } from '../../src-shared/protocol/errors.js';

/** A refusal with a stable code: sent back as the request's error, or shown to the host for an admin action. */
export class ServerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Sent with TOO_MANY_ATTEMPTS, RATE_LIMITED, and STORAGE_FULL for a user's daily quota. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** What a handler returns when it has written its response itself (see handlers/messages.ts). */
export const ANSWERED = Symbol('answered');
/** What a handler returns when it has written its refusal itself. */
export const REFUSED = Symbol('refused');

/** The response refusing request `id` for `error`. */
export function refusal(id: number, error: ServerError): { type: 'res'; id: number; ok: false; error: WireError } {
  const wire: WireError = { code: error.code, message: error.message };
  if (error.retryAfterMs !== undefined) wire.retryAfterMs = error.retryAfterMs;
  return { type: 'res', id, ok: false, error: wire };
}

/** A handler that returns one of these sent its response itself. */
export type Answered = typeof ANSWERED | typeof REFUSED;
