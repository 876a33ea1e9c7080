/**
 * The chat client: connects, says hello, logs in, and offers one typed request()
 * for every request and an event for everything the server pushes. After the
 * first successful login it reconnects by itself with backoff, resumes with its
 * session token, catches up on history and resends unacknowledged messages
 * (outbox.ts). The socket and pinning are in transport.ts, request ids and the
 * checking of every server frame in rpc.ts, what pushes and the catch-up bring,
 * passed on once each and in order, in inbox.ts; the settings in options.ts, the room's addresses
 * in addresses.ts, when to come back after a drop in reconnect.ts.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { LIMITS, PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import type { AttachmentRef, ChatMessage, EventPage, Target } from '../../src-shared/protocol/objects.js';
import type { RequestBody, RequestResults, RequestType, ServerLimits } from '../../src-shared/protocol/requests.js';
import { Connection } from '../net/connection.js';
import { ConnectionScheduler } from '../net/scheduler.js';
import { RoomAddresses } from './addresses.js';
import { ClientError, FATAL_CODES } from './errors.js';
import { Inbox, type InboxEvents } from './inbox.js';
import { type ClientOptions, type ClientSettings, clientSettings } from './options.js';
import { Outbox, type OutboxItem, RATE_LIMIT_RETRY_MS } from './outbox.js';
import { Backoff, afterDrop } from './reconnect.js';
import { Rpc, readServerFrame } from './rpc.js';
import type { TransferLink } from './transfer-link.js';

export type ConnectionState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface SessionInfo {
  hello: RequestResults['hello'];
  login: RequestResults['login'];
}

export type ClientEvents = InboxEvents & {
  state: [ConnectionState];
  online: [SessionInfo];
  /** The link dropped; the client will try again unless closed. */
  offline: [WireError | null];
  reconnecting: [{ attempt: number; delayMs: number }];
  queued: [OutboxItem];
  /**
   * A message went out: from now on the host may store it, whatever becomes of its answer. A plain one the
   * first time (OutboxItem.tried); an encrypted one (mlsSend, end-to-end encrypted outbox) at each try.
   */
  sending: [{ clientMsgId: string }];
  sent: [{ clientMsgId: string; message: ChatMessage; delivered: boolean }];
  sendFailed: [{ clientMsgId: string; error: ClientError }];
  /** The host failed a send (INTERNAL, its database stalled, say): it stays queued and goes again in `retryInMs`. */
  sendRetrying: [{ clientMsgId: string; error: ClientError; retryInMs: number }];
  /** The client gave up for good (e.g. its session ended); it is closed. */
  fatal: [ClientError];
};

/** Parameters of a request, optional when it has none. */
type ParamsArg<T extends RequestType> = Record<string, never> extends RequestBody<T> ? [params?: RequestBody<T>] : [params: RequestBody<T>];

/** Largest frame the client accepts: a page of 8000-character messages can be megabytes. */
const MAX_INCOMING_FRAME_BYTES = 64 * 1024 * 1024;
/** Messages per catch-up page, unless the host allows fewer. */
const SYNC_PAGE = 100;
/** Tries of a request refused for its rate before the refusal reaches the caller. */
const MAX_RATE_LIMITED_TRIES = 5;

export class ChatClient extends EventEmitter<ClientEvents> {
  state: ConnectionState = 'idle';
  session: SessionInfo | null = null;
  /** Fingerprint of the host's certificate once connected (null over plain TCP or before). */
  hostFingerprint: string | null = null;
  private readonly options: ClientSettings;
  private readonly addresses: RoomAddresses;
  private pinnedFingerprint: string | undefined;
  private checkRoom: ClientOptions['checkRoom'];
  private password: string | undefined;
  private passphrase: string | undefined;
  private token: string | undefined;
  private connection: Connection | null = null;
  /** The link's writes, apart from any other client or server in the process. */
  private readonly scheduler = new ConnectionScheduler();
  private readonly rpc: Rpc;
  private readonly outbox: Outbox;
  private readonly inbox: Inbox;
  private heartbeat: NodeJS.Timeout | null = null;
  /** When the oldest of our pings still without its pong went out; null when none is. */
  private pingUnansweredSince: number | null = null;
  private readonly backoff: Backoff;

  constructor(options: ClientOptions) {
    super();
    this.options = clientSettings(options);
    this.addresses = new RoomAddresses([{ host: options.host, port: options.port }, ...(options.alternates ?? [])], options.random);
    this.backoff = new Backoff(this.options.backoffMinMs, this.options.backoffMaxMs);
    this.pinnedFingerprint = options.fingerprint;
    this.checkRoom = options.checkRoom;
    this.password = options.password;
    this.passphrase = options.passphrase;
    this.token = options.token;
    this.inbox = new Inbox(
      this,
      { me: () => this.session?.login.name, sending: (clientMsgId) => this.outbox.holds(clientMsgId) },
      options.lastMessageId,
      options.lastEventId,
    );
    this.rpc = new Rpc(this.options.requestTimeoutMs);
    this.outbox = new Outbox({
      send: (item) => {
        const connection = this.connection;
        if (!connection) return null;
        // Our own message takes its place among the pushes now, not a promise turn later
        // when pushes with higher ids from the same read may already be out.
        const { clientMsgId, to, text, replyTo, attachments } = item;
        return this.rpc.call(
          connection,
          'send',
          { clientMsgId, to, text, ...(replyTo !== undefined ? { replyTo } : {}), ...(attachments ? { attachments } : {}) },
          // Answered ids can sit at or below the cursor (a duplicate's earlier id, or a push from
          // another node that overtook the answer): our own message is shown all the same.
          (result) => this.inbox.takeMessage(result.message, undefined, true),
          // No timeout: on a live link the answer comes, however late (sent again on the same link it
          // would only queue behind the first, and a late answer to the first would be lost). The
          // heartbeat judges the link; a send goes again on the next one (outbox.ts).
          null,
        );
      },
      online: () => this.state === 'online' && (this.connection?.isOpen ?? false),
      queued: (item) => this.emit('queued', item),
      sending: (item) => this.emit('sending', { clientMsgId: item.clientMsgId }),
      sent: (item, result) => this.emit('sent', { clientMsgId: item.clientMsgId, message: result.message, delivered: result.delivered }),
      refused: (item, error) => this.emit('sendFailed', { clientMsgId: item.clientMsgId, error }),
      retrying: (item, error, retryInMs) => this.emit('sendRetrying', { clientMsgId: item.clientMsgId, error, retryInMs }),
    });
    // Their outcome is reported by events; rejected only when refused or when this client closes.
    for (const item of options.unsent ?? []) this.outbox.add(item).catch(() => undefined);
  }

  /** Messages accepted by send() but not yet acknowledged by the server. */
  get unsent(): OutboxItem[] {
    return this.outbox.items;
  }

  /** The newest event log entry this client has applied (protocol 1.1 servers), 0 before any. */
  get lastEventId(): number {
    return this.inbox.lastEventId ?? 0;
  }

  /** The highest message id this client has seen. */
  get lastMessageId(): number {
    return this.inbox.lastMessageId;
  }

  /** The limits the host announced (PROTOCOL.md §15.1); the protocol's defaults before that, or from a 1.0 host. */
  get limits(): Pick<ServerLimits, 'maxTextLength' | 'maxPageSize'> {
    const hello = this.session?.hello;
    return hello?.limits ?? { maxTextLength: hello?.maxTextLength ?? LIMITS.maxTextLength, maxPageSize: LIMITS.maxPageSize };
  }

  /** The session token; keep it to log in later without the password. */
  get sessionToken(): string | undefined {
    return this.token;
  }

  /** First connection: resolves once logged in and caught up, rejects with the reason otherwise. */
  async connect(): Promise<SessionInfo> {
    if (this.state !== 'idle') throw new ClientError('CLOSED', `cannot connect from state ${this.state}`);
    this.setState('connecting');
    try {
      return await this.establish();
    } catch (error) {
      this.setState('closed');
      throw error;
    }
  }

  /** Closes the link and stops reconnecting; queued messages are rejected. */
  close(): void {
    if (this.state === 'closed') return;
    this.setState('closed');
    this.stopTimers();
    const connection = this.connection;
    this.connection = null;
    connection?.destroy(null);
    this.rpc.failAll(new ClientError('CLOSED', 'the client was closed'));
    this.outbox.drop(new ClientError('CLOSED', 'the client was closed'));
  }

  /** Ends the session on the server (the token stops working) and closes. */
  async logout(): Promise<void> {
    try {
      await this.request('logout');
    } finally {
      this.token = undefined;
      this.close();
    }
  }

  /**
   * Sends a request and resolves with its result; rejects with the server's error.
   * A request refused for its rate was not carried out, so it is sent again after the wait the server asks for.
   */
  async request<T extends RequestType>(type: T, ...[params]: ParamsArg<T>): Promise<RequestResults[T]> {
    for (let attempt = 1; ; attempt++) {
      const connection = this.connection;
      if (!connection?.isOpen || this.state !== 'online') throw new ClientError('DISCONNECTED', 'not connected to the server');
      try {
        const call = this.rpc.call(connection, type, params);
        if (type === 'mlsSend') this.emit('sending', { clientMsgId: (params as RequestBody<'mlsSend'>).clientMsgId });
        return await call;
      } catch (error) {
        if (!(error instanceof ClientError) || error.code !== ErrorCode.RATE_LIMITED || attempt >= MAX_RATE_LIMITED_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs ?? RATE_LIMIT_RETRY_MS));
      }
    }
  }

  /**
   * Sends a message. It is queued while offline and sent once the link is back;
   * resolves with the stored message, rejects only if the server refuses it for good.
   */
  send(to: Target, text: string, clientMsgId: string = randomUUID(), replyTo?: number, attachments?: AttachmentRef[]): Promise<ChatMessage> {
    if (this.state === 'closed' || this.state === 'idle') {
      return Promise.reject(new ClientError('CLOSED', 'connect first'));
    }
    const maxLength = this.limits.maxTextLength;
    // Code points, as the server counts (PROTOCOL.md §7): an emoji is one character. Files need no caption.
    if ((text.length === 0 && !attachments) || [...text].length > maxLength) {
      return Promise.reject(new ClientError(ErrorCode.BAD_REQUEST, `a message has 1 to ${maxLength} characters`));
    }
    return this.outbox.add({ clientMsgId, to, text, ...(replyTo !== undefined ? { replyTo } : {}), ...(attachments ? { attachments } : {}) });
  }

  /** Gives up on a message given to send() that never went out; its send() rejects with CANCELLED (Outbox.cancel). */
  cancelSend(clientMsgId: string): ReturnType<Outbox['cancel']> {
    return this.outbox.cancel(clientMsgId);
  }

  /** What a file transfer needs to reach this host as this user (client/transfer.ts); null before the first login. */
  transferLink(): TransferLink | null {
    if (this.token === undefined || !this.session) return null;
    const { tls, connectTimeoutMs } = this.options;
    const { host, port } = this.addresses.current;
    return { host, port, tls, fingerprint: this.hostFingerprint, token: this.token, connectTimeoutMs };
  }

  // ------------------------------------------------------------ link lifecycle

  /** Opens a socket, says hello, logs in and catches up; the client is online when it resolves. */
  private async establish(): Promise<SessionInfo> {
    const { tls, connectTimeoutMs } = this.options;
    const opened = await this.addresses.open({ tls, connectTimeoutMs, fingerprint: this.pinnedFingerprint });
    if (opened.fingerprint !== null) {
      this.pinnedFingerprint = opened.fingerprint;
      this.hostFingerprint = opened.fingerprint;
    }
    const connection = new Connection(opened.socket, {
      maxFrameBytes: MAX_INCOMING_FRAME_BYTES,
      maxQueuedBytes: 64 * 1024 * 1024,
      scheduler: this.scheduler,
    });
    this.connection = connection;
    connection.onFrame((frame) => {
      if (frame.kind === 'frame') this.onFrame(connection, frame.value);
      else this.protocolError(connection, frame.kind === 'invalid' ? frame.reason : `a frame of ${frame.declared} bytes`);
    });
    connection.onClose((reason) => this.onLinkClosed(connection, reason));
    // Pushes can arrive in the same read as the login answer, before the catch-up runs.
    this.inbox.hold();
    // hello, login and (with an event cursor, as on every return) the first catch-up page go in one
    // write (PROTOCOL.md §5.5): back online after one round trip instead of three, which after a
    // restart each wait behind everyone else's. What follows a refused request is refused in turn.
    const helloAnswer = this.rpc.call(connection, 'hello', { protocol: PROTOCOL_VERSION, client: this.options.clientName });
    if (this.checkRoom) {
      try {
        const refusal = this.checkRoom({ name: (await helloAnswer).room, fingerprint: opened.fingerprint });
        if (refusal) throw refusal;
      } catch (error) {
        this.inbox.dropHeld();
        connection.destroy(null);
        throw error;
      }
      // Reconnects present the pinned certificate, which this check passed.
      this.checkRoom = undefined;
    }
    const loginAnswer = this.rpc.call(
      connection,
      'login',
      this.token !== undefined
        ? { name: this.options.name, token: this.token }
        : {
            name: this.options.name,
            password: this.password ?? '',
            ...(this.passphrase !== undefined ? { passphrase: this.passphrase } : {}),
            ...(this.options.create ? {} : { create: false }),
          },
    );
    const eventCursor = this.inbox.lastEventId;
    const firstPage = eventCursor !== undefined ? this.rpc.call(connection, 'events', { after: eventCursor, limit: this.pageLimit() }) : null;
    // Awaited below, or not at all once an earlier answer failed.
    loginAnswer.catch(() => undefined);
    firstPage?.catch(() => undefined);
    try {
      const hello = await helloAnswer;
      this.startHeartbeat(connection, hello.limits?.heartbeatMs ?? hello.heartbeatMs);
      const login = await loginAnswer;
      this.token = login.token;
      this.password = undefined;
      this.passphrase = undefined;
      this.session = { hello, login };
      await this.catchUp(connection, login, firstPage);
      this.backoff.reset();
      this.setState('online');
      this.emit('online', this.session);
      this.outbox.flush();
      return this.session;
    } catch (error) {
      this.inbox.dropHeld();
      // Let go of the link now: its close comes after the next attempt is scheduled, and would cancel it.
      this.onLinkClosed(connection, null);
      connection.destroy(null);
      throw error;
    }
  }

  /** Fetches what happened while away (inbox.ts decides what), holding live pushes until done. */
  private catchUp(connection: Connection, login: RequestResults['login'], firstPage: Promise<EventPage> | null): Promise<void> {
    const limit = this.pageLimit();
    return this.inbox.catchUp({
      login,
      firstPage,
      events: (after) => this.rpc.call(connection, 'events', { after, limit }),
      sync: (after) => this.rpc.call(connection, 'sync', { after, limit }),
      isOpen: () => connection.isOpen,
    });
  }

  /** Entries per catch-up page: SYNC_PAGE, or fewer if the host allows fewer. */
  private pageLimit(): number {
    return Math.min(SYNC_PAGE, this.limits.maxPageSize);
  }

  private onLinkClosed(connection: Connection, reason: WireError | null): void {
    if (this.connection !== connection) return;
    this.connection = null;
    this.stopTimers();
    // A TLS host refusing this plain client says so once, before closing.
    const code = reason?.code === ErrorCode.TLS_REQUIRED ? ErrorCode.TLS_REQUIRED : 'DISCONNECTED';
    this.rpc.failAll(new ClientError(code, reason?.message ?? 'the connection was lost'));
    this.outbox.unlinked();
    if (this.state !== 'online') return;
    this.emit('offline', reason);
    const next = afterDrop(reason, this.options.reconnect);
    if (!next.reconnect) {
      this.close();
      if (next.fatal) this.emit('fatal', next.fatal);
      return;
    }
    this.backoff.dropped(reason);
    if (reason?.code === ErrorCode.SERVER_DRAINING) this.addresses.moveOn();
    this.setState('reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(notBeforeMs?: number): void {
    const next = this.backoff.schedule(() => {
      if (this.state !== 'reconnecting') return;
      this.establish().catch((error: unknown) => {
        if (this.state !== 'reconnecting') return;
        if (error instanceof ClientError && FATAL_CODES.has(error.code)) {
          this.close();
          this.emit('fatal', error);
          return;
        }
        // The host said when a login can pass (its login rate, or failed-attempt delays): sooner is wasted.
        this.scheduleReconnect(error instanceof ClientError ? error.retryAfterMs : undefined);
      });
    }, notBeforeMs);
    this.emit('reconnecting', next);
  }

  private startHeartbeat(connection: Connection, timeoutMs: number): void {
    const every = Math.max(50, Math.floor(timeoutMs / 4));
    this.pingUnansweredSince = null;
    this.heartbeat = setInterval(() => {
      const now = Date.now();
      if (now - connection.lastReceivedAt > timeoutMs) {
        connection.destroy({ code: ErrorCode.HEARTBEAT_TIMEOUT, message: 'the server stopped answering' });
        return;
      }
      // The host answers a ping after the session's earlier requests (PROTOCOL §12): pushes that keep
      // coming do not show it still serves this session, a pong does. Twice the silence allowed leaves
      // room for requests that wait on a stalled database.
      if (this.pingUnansweredSince !== null && now - this.pingUnansweredSince > 2 * timeoutMs) {
        connection.destroy({ code: ErrorCode.HEARTBEAT_TIMEOUT, message: 'the server stopped answering this session' });
        return;
      }
      this.pingUnansweredSince ??= now;
      connection.send({ type: 'ping' });
    }, every);
    this.heartbeat.unref();
  }

  private stopTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.backoff.stop();
    this.outbox.stop();
  }

  // ------------------------------------------------------------ frames

  private onFrame(connection: Connection, value: unknown): void {
    const reading = readServerFrame(value);
    switch (reading.kind) {
      case 'response': {
        const problem = this.rpc.answer(reading.frame);
        if (problem !== null) this.protocolError(connection, problem);
        return;
      }
      case 'push':
        if (reading.push.type === 'pong' && connection === this.connection) this.pingUnansweredSince = null;
        this.inbox.push(reading.push, connection);
        return;
      case 'invalid':
        this.protocolError(connection, reading.problem);
        return;
      case 'unknown':
        return;
    }
  }

  /**
   * The server sent something the protocol does not allow: nothing more from this
   * connection can be trusted, so it is closed with the reason (and the client
   * reconnects as after any drop).
   */
  private protocolError(connection: Connection, problem: string): void {
    const reason = { code: ErrorCode.BAD_FRAME, message: `the server broke the protocol: ${problem}` };
    const { host, port } = this.addresses.current;
    console.error(`lanchat client: ${host}:${port}: ${reason.message}`);
    this.rpc.failAll(new ClientError('PROTOCOL_ERROR', reason.message));
    connection.destroy(reason);
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }
}
