/** One client connection as the server sees it, from accept to close. */
import type { WireError } from '../../src-shared/protocol/errors.js';
import type { Connection } from '../net/connection.js';
import type { UserRow } from '../store/types.js';
import { ConnectionRateLimiter, type RateLimits } from './rate-limit.js';

export interface Session {
  connection: Connection;
  helloDone: boolean;
  /** The client's name and version from hello. */
  clientName: string | null;
  /** The minor protocol version the client said in hello: what shape of `presence` it takes (presence.ts). */
  protocolMinor: number;
  user: UserRow | null;
  tokenHash: string | null;
  consecutiveErrors: number;
  openedAt: number;
  /** Highest message id written to this connection (push, sync page or send result). */
  sentUpTo: number;
  /** Highest id the client said it holds (the `after` of its last sync). */
  syncedTo: number;
  /** Set by logout: the connection closes after this reply and reads nothing more. */
  closeAfterReply: WireError | null;
  /** Set by a drain (ChatServer.drain): the connection reads nothing more; it closes once what it read is answered. */
  draining: boolean;
  limiter: ConnectionRateLimiter;
  /** When the log last noted this connection's refusals for rate (it notes one per RATE_LOG_EVERY_MS). */
  rateLoggedAt: number;
  /**
   * Settles once every request handled so far is answered; null when they all are. Set while
   * pipelined sends wait for their group commit (dispatch.ts, Dispatcher.runSend).
   */
  answering: Promise<void> | null;
  /** Of those, the sends not yet answered. */
  sendsUnanswered: number;
  /** Called by the group commit when it takes the send being handled; lets the connection's next send in. */
  sendQueued: (() => void) | null;
  /** The request other than a send being handled (it holds the connection's next frames), and since when; noted once logged as stuck. */
  handling: { type: string; since: number; noted: boolean } | null;
}

export type LoggedInSession = Session & { user: UserRow };

/**
 * Counts the message id as written to the session (its sentUpTo), if its connection still takes frames: one
 * the server is closing drops them, and a clean close stores sentUpTo as the account's cursor (roster.ts).
 */
export function markSent(session: Session, messageId: number): void {
  if (messageId > session.sentUpTo && session.connection.isOpen) session.sentUpTo = messageId;
}

export function newSession(connection: Connection, rateLimits: RateLimits): Session {
  return {
    connection,
    helloDone: false,
    clientName: null,
    protocolMinor: 0,
    user: null,
    tokenHash: null,
    consecutiveErrors: 0,
    openedAt: Date.now(),
    sentUpTo: 0,
    syncedTo: 0,
    closeAfterReply: null,
    draining: false,
    limiter: new ConnectionRateLimiter(rateLimits),
    rateLoggedAt: 0,
    answering: null,
    sendsUnanswered: 0,
    sendQueued: null,
    handling: null,
  };
}
