/**
 * From decoded frame to one response: control frames, request validation, the
 * hello/login gates, per-connection rate limits, running a handler and turning
 * what it returns or throws into the response frame.
 */
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { type Request, type RequestType, parseRequest } from '../../src-shared/protocol/requests.js';
import type { DecodedFrame } from '../net/frame.js';
import { FollowedBy, type Handlers } from './context.js';
import { ANSWERED, REFUSED, ServerError, refusal } from './errors.js';
import type { ServerLog } from './log.js';
import { MAX_RATE_PAUSE_MS } from './rate-limit.js';
import type { Session } from './session.js';

/**
 * Sends of one connection that may wait for the group commit together: the client's next send is
 * handled as soon as the last one is queued, up to this many unanswered (docs/PROTOCOL.md §5.5).
 */
export const PIPELINED_SENDS = 64;

/** Whether the connection's next frame is a send that joins the sends it has waiting (see frame), held back only by the loop's turn budget. */
export function sendDueNextTurn(session: Session): boolean {
  const next = session.connection.frameDueNextTurn;
  return next !== undefined && isSend(next) && session.sendsUnanswered < PIPELINED_SENDS;
}

export interface DispatchOptions {
  log: ServerLog;
  handlers: Handlers;
  maxFrameBytes: number;
  /** Bad frames in a row before the connection is closed. */
  maxConsecutiveErrors: number;
}

/** A flooding connection is noted in the log at most this often. */
const RATE_LOG_EVERY_MS = 10_000;

/** Requests that read many messages; a user has at most EXPENSIVE_PER_USER of them under way at once. */
const EXPENSIVE = new Set<RequestType>(['search', 'history', 'sync']);
export const EXPENSIVE_PER_USER = 2;

export class Dispatcher {
  private readonly expensive = new PerUserLimit(EXPENSIVE_PER_USER);

  constructor(private readonly options: DispatchOptions) {}

  /** Handles one decoded frame of the session; a promise holds the connection's next frame back. */
  frame(session: Session, frame: DecodedFrame): void | Promise<void> {
    const connection = session.connection;
    // While sends of this connection wait for their commit, only another send joins them; anything else is handled once they are answered.
    if (session.answering && !(isSend(frame) && session.sendsUnanswered < PIPELINED_SENDS)) {
      return session.answering.then(() => this.frame(session, frame));
    }
    if (frame.kind === 'oversize') {
      this.options.log.warn('bad frame', { address: connection.remoteAddress, reason: `declared length ${frame.declared}` });
      connection.close({
        code: ErrorCode.FRAME_TOO_LARGE,
        message:
          frame.declared === 0
            ? 'a frame length of 0 is not allowed'
            : `frame of ${frame.declared} bytes is over the limit of ${this.options.maxFrameBytes}`,
      });
      return;
    }
    const wait = session.limiter.admit(connection.receivedBytes);
    if (wait > 0) return this.refuseForRate(session, frame, wait);
    if (frame.kind === 'invalid') return this.refuse(session, null, { code: ErrorCode.BAD_FRAME, message: frame.reason });
    return this.value(session, frame.value);
  }

  private value(session: Session, value: unknown): void | Promise<void> {
    if (session.closeAfterReply || session.draining) return;
    const type = (value as { type?: unknown } | null)?.type;
    if (type === 'ping') {
      session.connection.send({ type: 'pong' });
      return;
    }
    if (type === 'pong') return;
    const parsed = parseRequest(value);
    if (!parsed.ok) return this.refuse(session, parsed.id, parsed.error);
    const request = parsed.request;
    if (request.type !== 'hello' && !session.helloDone) {
      return this.refuse(session, request.id, { code: ErrorCode.HELLO_REQUIRED, message: 'send hello first' });
    }
    if (request.type !== 'hello' && request.type !== 'login' && !session.user) {
      return this.refuse(session, request.id, { code: ErrorCode.NOT_LOGGED_IN, message: 'log in first' });
    }
    const handler = this.options.handlers[request.type] as (s: Session, r: Request) => unknown;
    if (request.type === 'send') return this.runSend(session, request, () => handler(session, request));
    if (EXPENSIVE.has(request.type)) {
      return this.run(session, request, () => this.expensive.run(session.user!.id, () => handler(session, request)));
    }
    return this.run(session, request, () => handler(session, request));
  }

  /**
   * A send lets the connection's next frame in once the group commit has taken it, or once it is
   * answered, whichever comes first: a client's pipelined sends (an outbox sent again after a
   * reconnect) are stored in one commit, not one commit each. Its answer still follows those of the
   * requests before it; the commit answers the sends it stored in their order.
   */
  private runSend(session: Session, request: Request, work: () => unknown): Promise<void> {
    const earlier = session.answering;
    const inOrder = (answer: () => void): void | Promise<void> => (earlier ? earlier.then(answer) : answer());
    let queued!: () => void;
    const taken = new Promise<void>((resolve) => (queued = resolve));
    session.sendQueued = queued;
    session.sendsUnanswered += 1;
    const { reply, fail } = this.responders(session, request);
    const done = new Promise<unknown>((resolve) => resolve(work()))
      .then(
        (result) => inOrder(() => reply(result)),
        (error: unknown) => inOrder(() => fail(error)),
      )
      .finally(() => {
        session.sendsUnanswered -= 1;
        if (session.sendQueued === queued) session.sendQueued = null;
      });
    this.answeringUntil(session, done);
    return Promise.race([taken, done]);
  }

  /** Records `done` as when the last request handled so far is answered. */
  private answeringUntil(session: Session, done: Promise<void>): void {
    session.answering = done;
    const settled = (): void => {
      if (session.answering === done) session.answering = null;
    };
    done.then(settled, settled);
  }

  /** Sends a response once every earlier request of the connection is answered (PROTOCOL §10.1); the promise, if it has to wait. */
  private answer(session: Session, frame: unknown): void | Promise<void> {
    const earlier = session.answering;
    if (!earlier) return session.connection.send(frame);
    const send = (): void => session.connection.send(frame);
    const sent = earlier.then(send, send);
    this.answeringUntil(session, sent);
    return sent;
  }

  /** Runs a handler and sends its one response, ok or error. */
  private run(session: Session, request: Request, work: () => unknown): void | Promise<void> {
    const { reply, fail } = this.responders(session, request);
    try {
      const result = work();
      if (result instanceof Promise) {
        const handling = { type: request.type, since: Date.now(), noted: false };
        session.handling = handling;
        return result.then(reply, fail).finally(() => {
          if (session.handling === handling) session.handling = null;
        });
      }
      reply(result);
    } catch (error) {
      fail(error);
    }
  }

  /** What sends a handler's one response: its result, or its error. */
  private responders(session: Session, request: Request): { reply: (result: unknown) => void; fail: (error: unknown) => void } {
    const reply = (result: unknown): void => {
      if (result !== REFUSED) session.consecutiveErrors = 0;
      if (result instanceof FollowedBy) {
        session.connection.send({ type: 'res', id: request.id, ok: true, result: result.result });
        for (const push of result.pushes) session.connection.send(push);
      } else if (result !== ANSWERED && result !== REFUSED) {
        session.connection.send({ type: 'res', id: request.id, ok: true, result });
      }
      if (session.closeAfterReply) session.connection.close(session.closeAfterReply);
    };
    const fail = (error: unknown): void => {
      if (error instanceof ServerError) {
        session.connection.send(refusal(request.id, error));
        if (session.closeAfterReply) session.connection.close(session.closeAfterReply);
        return;
      }
      this.options.log.error('internal error', {
        type: request.type,
        error: error instanceof Error ? error.stack : String(error),
      });
      session.connection.send({ type: 'res', id: request.id, ok: false, error: describeInternalError(error) });
    };
    return { reply, fail };
  }

  /** Answers a bad frame; too many in a row closes the connection. */
  private refuse(session: Session, id: number | null, error: WireError): void | Promise<void> {
    session.consecutiveErrors += 1;
    this.options.log.warn('bad frame', { address: session.connection.remoteAddress, code: error.code, reason: error.message });
    if (session.consecutiveErrors >= this.options.maxConsecutiveErrors) {
      session.connection.close({ code: ErrorCode.TOO_MANY_ERRORS, message: `${session.consecutiveErrors} bad frames in a row` });
      return;
    }
    return this.answer(session, id === null ? { type: 'error', error } : { type: 'res', id, ok: false, error });
  }

  /** Refuses a frame over the connection's rate, then reads nothing from it for a while. */
  private refuseForRate(session: Session, frame: DecodedFrame, wait: number): Promise<void> {
    const connection = session.connection;
    if (Date.now() - session.rateLoggedAt > RATE_LOG_EVERY_MS) {
      session.rateLoggedAt = Date.now();
      this.options.log.warn('rate limited', {
        address: connection.remoteAddress,
        ...(session.user ? { user: session.user.name } : {}),
      });
    }
    const error: WireError = { code: ErrorCode.RATE_LIMITED, message: session.limiter.describe(wait), retryAfterMs: wait };
    const id = frame.kind === 'frame' ? requestIdOf(frame.value) : null;
    const sent = this.answer(session, id === null ? { type: 'error', error } : { type: 'res', id, ok: false, error });
    const pause = new Promise<void>((resolve) => setTimeout(resolve, Math.min(wait, MAX_RATE_PAUSE_MS)).unref());
    return sent ? Promise.all([sent, pause]).then(() => undefined) : pause;
  }
}

function describeInternalError(error: unknown): WireError {
  const found = (error as { code?: unknown } | null)?.code;
  const code = typeof found === 'string' ? found : '';
  if (code === 'SQLITE_FULL') {
    return { code: ErrorCode.STORAGE_FULL, message: 'the host is out of disk space; the request was not stored' };
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return { code: ErrorCode.INTERNAL, message: 'the host database is busy; try again' };
  }
  return { code: ErrorCode.INTERNAL, message: 'the server hit an internal error; the request was not carried out' };
}

/** Whether a frame asks for a send (well formed or not: it is checked when handled). */
function isSend(frame: DecodedFrame): boolean {
  return frame.kind === 'frame' && (frame.value as { type?: unknown } | null)?.type === 'send';
}

/** The request id of a frame, if it carries a usable one (to answer a refusal in kind). */
function requestIdOf(value: unknown): number | null {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

/**
 * Bounds how many requests of one kind a user has under way at once, over all their
 * connections; the rest wait their turn in arrival order. Work that finishes at once
 * (a synchronous handler) passes straight through.
 */
export class PerUserLimit {
  private readonly running = new Map<number, number>();
  private readonly waiting = new Map<number, (() => void)[]>();

  constructor(readonly limit: number) {}

  run(userId: number, work: () => unknown): unknown {
    const running = this.running.get(userId) ?? 0;
    if (running < this.limit) {
      this.running.set(userId, running + 1);
      return this.execute(userId, work);
    }
    return new Promise<void>((resolve) => {
      const queue = this.waiting.get(userId) ?? [];
      queue.push(resolve);
      this.waiting.set(userId, queue);
    }).then(() => this.execute(userId, work));
  }

  private execute(userId: number, work: () => unknown): unknown {
    let result: unknown;
    try {
      result = work();
    } catch (error) {
      this.release(userId);
      throw error;
    }
    if (!(result instanceof Promise)) {
      this.release(userId);
      return result;
    }
    return result.finally(() => this.release(userId));
  }

  /** Hands the slot to the next in line, or frees it. */
  private release(userId: number): void {
    const queue = this.waiting.get(userId);
    const next = queue?.shift();
    if (queue?.length === 0) this.waiting.delete(userId);
    if (next) {
      next();
      return;
    }
    const running = (this.running.get(userId) ?? 1) - 1;
    if (running > 0) this.running.set(userId, running);
    else this.running.delete(userId);
  }
}
