/**
 * The chat client: connects, says hello, logs in, and offers a typed method for
 * every request and an event for everything the server pushes. After the first
 * successful login it reconnects by itself with backoff, resumes with its
 * session token, catches up on history and resends unacknowledged messages
 * (the server recognises resends by their client id, so each is stored once).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Socket, connect as connectTcp } from 'node:net';
import { TLSSocket, connect as connectTls } from 'node:tls';
import type { ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import type { PushFrames } from '../../src-shared/protocol/pushes.js';
import { PROTOCOL_VERSION, LIMITS } from '../../src-shared/protocol/limits.js';
import type { RequestBody, RequestResults, RequestType } from '../../src-shared/protocol/requests.js';
import { Connection } from '../net/connection.js';
import { TLS_MIN_VERSION, fingerprintOf } from '../net/tls.js';

export type ClientErrorCode =
  | ErrorCode
  | 'CONNECT_FAILED'
  | 'DISCONNECTED'
  | 'TIMEOUT'
  | 'CLOSED'
  /** The host's certificate is not the pinned one (see FingerprintChangedError). */
  | 'FINGERPRINT_CHANGED'
  /** The host did not answer with TLS: it runs with encryption off, or is not a LanChat host. */
  | 'TLS_UNAVAILABLE';

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
const FATAL_CODES: ReadonlySet<ClientErrorCode> = new Set<ClientErrorCode>([
  ErrorCode.BAD_TOKEN,
  ErrorCode.WRONG_PASSWORD,
  ErrorCode.PROTOCOL_VERSION,
  ErrorCode.TLS_REQUIRED,
  ErrorCode.BANNED,
  'FINGERPRINT_CHANGED',
  'TLS_UNAVAILABLE',
]);

export interface ClientOptions {
  host: string;
  port: number;
  name: string;
  /** Needed for the first login; afterwards the session token is used. */
  password?: string;
  token?: string;
  /** The room passphrase, sent with a password login so a new account can be created in a passphrase room. */
  passphrase?: string;
  /** Highest message id already held (from the caller's own storage); history after it is fetched on login. */
  lastMessageId?: number;
  clientName?: string;
  reconnect?: boolean;
  /** First and largest wait between reconnect attempts. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** TLS (default), or plain TCP when false: only for a host that turned TLS off. */
  tls?: boolean;
  /**
   * The host's expected certificate fingerprint. Without one the first certificate
   * seen is trusted (read it from hostFingerprint to pin it); reconnects always
   * require the fingerprint of the first connection.
   */
  fingerprint?: string;
}

export type ConnectionState = 'idle' | 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface SessionInfo {
  hello: RequestResults['hello'];
  login: RequestResults['login'];
}

export interface OutboxItem {
  clientMsgId: string;
  to: Target;
  text: string;
}

export interface ClientEvents {
  state: [ConnectionState];
  online: [SessionInfo];
  /** The link dropped; the client will try again unless closed. */
  offline: [WireError | null];
  reconnecting: [{ attempt: number; delayMs: number }];
  /** Every message once, in id order: live, caught up after a reconnect, and your own once stored. */
  message: [ChatMessage];
  queued: [OutboxItem];
  sent: [{ clientMsgId: string; message: ChatMessage; delivered: boolean }];
  delivered: [PushFrames['delivered']];
  sendFailed: [{ clientMsgId: string; error: ClientError }];
  presence: [PushFrames['presence']];
  chatRequest: [PushFrames['chatRequest']];
  chatAnswer: [PushFrames['chatAnswer']];
  chatLeft: [PushFrames['chatLeft']];
  group: [PushFrames['group']];
  groupRemoved: [PushFrames['groupRemoved']];
  /** A connection-level error from the server (a frame it could not read). */
  serverError: [WireError];
  /** The client gave up for good (e.g. its session ended); it is closed. */
  fatal: [ClientError];
}

interface PendingRequest {
  type: RequestType;
  resolve: (value: unknown) => void;
  reject: (error: ClientError) => void;
  timer: NodeJS.Timeout;
}

interface QueuedSend extends OutboxItem {
  /** Sent on the current link, answer awaited. */
  inFlight: boolean;
  resolve: (message: ChatMessage) => void;
  reject: (error: ClientError) => void;
}

/** Bye reasons after which the client does not reconnect by itself. */
const ENDED_BY_HOST = new Set<string>([ErrorCode.KICKED, ErrorCode.BANNED, ErrorCode.PASSWORD_CHANGED]);

/** Largest frame the client accepts: a page of 8000-character messages can be megabytes. */
const MAX_INCOMING_FRAME_BYTES = 64 * 1024 * 1024;
/** Messages per catch-up page. */
const SYNC_PAGE = 100;
/** Wait before resending after RATE_LIMITED when the server gave no time. */
const RATE_LIMIT_RETRY_MS = 1000;
/** Tries of a request refused for its rate before the refusal reaches the caller. */
const MAX_RATE_LIMITED_TRIES = 5;

export class ChatClient extends EventEmitter<ClientEvents> {
  state: ConnectionState = 'idle';
  session: SessionInfo | null = null;
  /** Fingerprint of the host's certificate once connected (null over plain TCP or before). */
  hostFingerprint: string | null = null;
  private readonly options: Required<Omit<ClientOptions, 'password' | 'token' | 'lastMessageId' | 'fingerprint' | 'passphrase'>>;
  private pinnedFingerprint: string | undefined;
  private password: string | undefined;
  private passphrase: string | undefined;
  private token: string | undefined;
  private connection: Connection | null = null;
  private nextRequestId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly outbox: QueuedSend[] = [];
  /** Highest message id emitted; pushes at or below it are repeats. */
  private cursor: number | undefined;
  /** Pushed messages held while catching up, so they come out in order after the caught-up ones. */
  private held: ChatMessage[] | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Resends the outbox after the server refused sends for their rate. */
  private resendTimer: NodeJS.Timeout | null = null;
  private attempt = 0;

  constructor(options: ClientOptions) {
    super();
    this.options = {
      host: options.host,
      port: options.port,
      name: options.name,
      clientName: options.clientName ?? 'lanchat-client/0.1.0',
      reconnect: options.reconnect ?? true,
      backoffMinMs: options.backoffMinMs ?? 200,
      backoffMaxMs: options.backoffMaxMs ?? 5000,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      tls: options.tls ?? true,
    };
    this.pinnedFingerprint = options.fingerprint;
    this.password = options.password;
    this.passphrase = options.passphrase;
    this.token = options.token;
    this.cursor = options.lastMessageId;
  }

  /** Messages accepted by send() but not yet acknowledged by the server. */
  get unsent(): OutboxItem[] {
    return this.outbox.map(({ clientMsgId, to, text }) => ({ clientMsgId, to, text }));
  }

  /** The highest message id this client has seen. */
  get lastMessageId(): number {
    return this.cursor ?? 0;
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
      const info = await this.establish();
      return info;
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
    this.failPending(new ClientError('CLOSED', 'the client was closed'));
    for (const item of this.outbox.splice(0)) item.reject(new ClientError('CLOSED', 'the client was closed'));
  }

  /** Ends the session on the server (the token stops working) and closes. */
  async logout(): Promise<void> {
    try {
      await this.request('logout', {});
    } finally {
      this.token = undefined;
      this.close();
    }
  }

  /**
   * Sends a request and resolves with its result; rejects with the server's error.
   * A request refused for its rate was not carried out, so it is sent again after the wait the server asks for.
   */
  async request<T extends RequestType>(type: T, body: RequestBody<T>): Promise<RequestResults[T]> {
    for (let attempt = 1; ; attempt++) {
      const connection = this.connection;
      if (!connection?.isOpen || this.state !== 'online') throw new ClientError('DISCONNECTED', 'not connected to the server');
      try {
        return await this.rawRequest(connection, type, body);
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
  send(to: Target, text: string, clientMsgId: string = randomUUID()): Promise<ChatMessage> {
    if (this.state === 'closed' || this.state === 'idle') {
      return Promise.reject(new ClientError('CLOSED', 'connect first'));
    }
    if (text.length === 0 || text.length > (this.session?.hello.maxTextLength ?? LIMITS.maxTextLength)) {
      return Promise.reject(new ClientError(ErrorCode.BAD_REQUEST, 'a message has 1 to 8000 characters'));
    }
    return new Promise((resolve, reject) => {
      const item: QueuedSend = { clientMsgId, to, text, inFlight: false, resolve, reject };
      this.outbox.push(item);
      this.emit('queued', { clientMsgId, to, text });
      if (this.state === 'online') void this.transmit(item);
    });
  }

  // ------------------------------------------------------------ typed shortcuts

  history(conv: string, before?: number, limit?: number) {
    return this.request('history', { conv, ...(before !== undefined ? { before } : {}), ...(limit ? { limit } : {}) });
  }
  users() {
    return this.request('users', {});
  }
  contacts() {
    return this.request('contacts', {});
  }
  search(query: string, options: { person?: string; before?: number; limit?: number } = {}) {
    return this.request('search', { query, ...options });
  }
  chatRequest(user: string) {
    return this.request('chatRequest', { user });
  }
  chatAnswer(user: string, accept: boolean) {
    return this.request('chatAnswer', { user, accept });
  }
  chatLeave(user: string) {
    return this.request('chatLeave', { user });
  }
  groups() {
    return this.request('groups', {});
  }
  groupCreate(name: string) {
    return this.request('groupCreate', { name });
  }
  groupRename(groupId: number, name: string) {
    return this.request('groupRename', { groupId, name });
  }
  groupDelete(groupId: number) {
    return this.request('groupDelete', { groupId });
  }
  groupAddMember(groupId: number, user: string) {
    return this.request('groupAddMember', { groupId, user });
  }
  groupRemoveMember(groupId: number, user: string) {
    return this.request('groupRemoveMember', { groupId, user });
  }
  groupInfo(groupId: number) {
    return this.request('groupInfo', { groupId });
  }
  /** Changes this account's password; the server ends the account's other sessions. */
  changePassword(current: string, password: string) {
    return this.request('changePassword', { current, password });
  }

  // ------------------------------------------------------------ link lifecycle

  /** Opens a socket, says hello, logs in and catches up; the client is online when it resolves. */
  private async establish(): Promise<SessionInfo> {
    const socket = await this.openSocket();
    const connection = new Connection(socket, {
      maxFrameBytes: MAX_INCOMING_FRAME_BYTES,
      maxQueuedBytes: 64 * 1024 * 1024,
    });
    this.connection = connection;
    connection.onFrame((frame) => {
      if (frame.kind === 'frame') this.onFrame(frame.value);
    });
    connection.onClose((reason) => this.onLinkClosed(connection, reason));
    try {
      const hello = await this.rawRequest(connection, 'hello', {
        protocol: PROTOCOL_VERSION,
        client: this.options.clientName,
      });
      this.startHeartbeat(connection, hello.heartbeatMs);
      // Pushes can arrive in the same read as the login answer, before catchUp runs:
      // held from here, they cannot move the cursor past messages not yet synced.
      this.held = [];
      const login = await this.rawRequest(
        connection,
        'login',
        this.token !== undefined
          ? { name: this.options.name, token: this.token }
          : {
              name: this.options.name,
              password: this.password ?? '',
              ...(this.passphrase !== undefined ? { passphrase: this.passphrase } : {}),
            },
      );
      this.token = login.token;
      this.password = undefined;
      this.passphrase = undefined;
      this.cursor ??= login.deliveredUpTo;
      this.session = { hello, login };
      await this.catchUp(connection);
      this.attempt = 0;
      this.setState('online');
      this.emit('online', this.session);
      for (const item of this.outbox) void this.transmit(item);
      return this.session;
    } catch (error) {
      // What was held is fetched again by the next catch-up.
      this.held = null;
      connection.destroy(null);
      throw error;
    }
  }

  /**
   * Connects; with TLS, resolves only after the host's certificate matched the pin
   * (or was seen for the first time), so nothing is ever sent to an impostor.
   */
  private openSocket(): Promise<Socket> {
    const { host, port, tls } = this.options;
    const where = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket = tls
        ? connectTls({ host, port, rejectUnauthorized: false, minVersion: TLS_MIN_VERSION })
        : connectTcp({ host, port });
      const fail = (error: ClientError): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new ClientError('CONNECT_FAILED', `no answer from ${where}`)), this.options.connectTimeoutMs);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        if (socket instanceof TLSSocket) {
          const fingerprint = fingerprintOf(socket.getPeerCertificate().raw);
          if (this.pinnedFingerprint !== undefined && fingerprint !== this.pinnedFingerprint) {
            fail(new FingerprintChangedError(this.pinnedFingerprint, fingerprint, where));
            return;
          }
          this.pinnedFingerprint = fingerprint;
          this.hostFingerprint = fingerprint;
        }
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        fail(
          tls && isTlsFailure(error)
            ? new ClientError(
                'TLS_UNAVAILABLE',
                `${where} did not answer with TLS: the host has encryption turned off, or it is not a LanChat host`,
              )
            : new ClientError('CONNECT_FAILED', describeSocketError(error, host, port)),
        );
      });
    });
  }

  /** Fetches every message after the cursor, holding live pushes until done. */
  private async catchUp(connection: Connection): Promise<void> {
    for (;;) {
      const page = await this.rawRequest(connection, 'sync', { after: this.cursor ?? 0, limit: SYNC_PAGE });
      for (const message of page.messages) this.emitMessage(message);
      if (!page.hasMore) break;
    }
    const held = this.held ?? [];
    this.held = null;
    for (const message of held) this.emitMessage(message);
  }

  private onLinkClosed(connection: Connection, reason: WireError | null): void {
    if (this.connection !== connection) return;
    this.connection = null;
    this.stopTimers();
    // A TLS host refusing this plain client says so once, before closing.
    const code = reason?.code === ErrorCode.TLS_REQUIRED ? ErrorCode.TLS_REQUIRED : 'DISCONNECTED';
    this.failPending(new ClientError(code, reason?.message ?? 'the connection was lost'));
    for (const item of this.outbox) item.inFlight = false;
    if (this.state !== 'online') return;
    this.emit('offline', reason);
    if (!this.options.reconnect || reason?.code === ErrorCode.LOGGED_OUT) {
      this.close();
      return;
    }
    if (reason && ENDED_BY_HOST.has(reason.code)) {
      // Coming straight back would undo what the host (or a password change) just did.
      this.close();
      this.emit('fatal', new ClientError(reason.code, reason.message));
      return;
    }
    this.setState('reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.attempt += 1;
    const base = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** (this.attempt - 1));
    const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
    this.emit('reconnecting', { attempt: this.attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state !== 'reconnecting') return;
      this.establish().catch((error: unknown) => {
        if (this.state !== 'reconnecting') return;
        if (error instanceof ClientError && FATAL_CODES.has(error.code)) {
          this.close();
          this.emit('fatal', error);
          return;
        }
        this.scheduleReconnect();
      });
    }, delayMs);
  }

  private startHeartbeat(connection: Connection, timeoutMs: number): void {
    const every = Math.max(50, Math.floor(timeoutMs / 4));
    this.heartbeat = setInterval(() => {
      if (Date.now() - connection.lastReceivedAt > timeoutMs) {
        connection.destroy({ code: ErrorCode.HEARTBEAT_TIMEOUT, message: 'the server stopped answering' });
        return;
      }
      connection.send({ type: 'ping' });
    }, every);
    this.heartbeat.unref();
  }

  private stopTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.heartbeat = null;
    this.reconnectTimer = null;
    this.resendTimer = null;
  }

  // ------------------------------------------------------------ frames

  private rawRequest<T extends RequestType>(connection: Connection, type: T, body: RequestBody<T>): Promise<RequestResults[T]> {
    const id = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError('TIMEOUT', `no answer to ${type} in time`));
      }, this.options.requestTimeoutMs);
      this.pending.set(id, { type, resolve: resolve as (value: unknown) => void, reject, timer });
      connection.send({ type, id, ...body });
    });
  }

  private onFrame(value: unknown): void {
    const frame = value as { type?: string } & Record<string, unknown>;
    switch (frame.type) {
      case 'res': {
        const pending = this.pending.get(frame.id as number);
        if (!pending) return;
        this.pending.delete(frame.id as number);
        clearTimeout(pending.timer);
        if (frame.ok) {
          // Our own message takes its place among the pushes now, not a promise turn later
          // when pushes with higher ids from the same read may already be out.
          if (pending.type === 'send') this.takeMessage((frame.result as RequestResults['send']).message);
          pending.resolve(frame.result);
        } else {
          const error = frame.error as WireError;
          pending.reject(new ClientError(error.code, error.message, error.retryAfterMs));
        }
        return;
      }
      case 'message':
        this.takeMessage(frame.message as ChatMessage);
        return;
      case 'ping':
        this.connection?.send({ type: 'pong' });
        return;
      case 'pong':
        return;
      case 'error':
        this.emit('serverError', frame.error as WireError);
        return;
      case 'bye':
        this.connection?.destroy(frame.error as WireError);
        return;
      case 'presence':
      case 'chatRequest':
      case 'chatAnswer':
      case 'chatLeft':
      case 'group':
      case 'groupRemoved':
      case 'delivered':
        (this.emit as (event: string, payload: unknown) => boolean)(frame.type, frame);
        return;
      default:
        return;
    }
  }

  /** Emits a message now, or after the catch-up under way. */
  private takeMessage(message: ChatMessage): void {
    if (this.held) this.held.push(message);
    else this.emitMessage(message);
  }

  private emitMessage(message: ChatMessage): void {
    if (this.cursor !== undefined && message.id <= this.cursor) return;
    this.cursor = message.id;
    this.emit('message', message);
  }

  private async transmit(item: QueuedSend): Promise<void> {
    const connection = this.connection;
    if (item.inFlight || !connection) return;
    item.inFlight = true;
    try {
      const result = await this.rawRequest(connection, 'send', { clientMsgId: item.clientMsgId, to: item.to, text: item.text });
      this.removeFromOutbox(item);
      this.emit('sent', { clientMsgId: item.clientMsgId, message: result.message, delivered: result.delivered });
      item.resolve(result.message);
    } catch (error) {
      item.inFlight = false;
      const clientError = error instanceof ClientError ? error : new ClientError('DISCONNECTED', String(error));
      if (clientError.code === 'TIMEOUT') {
        // The answer is late or lost: the resend is recognised by its client id.
        if (connection.isOpen) void this.transmit(item);
      } else if (clientError.code === ErrorCode.RATE_LIMITED) {
        // Not stored: it stays in the outbox and goes again once the server can take it.
        this.resendLater(clientError.retryAfterMs ?? RATE_LIMIT_RETRY_MS);
      } else if (clientError.code !== 'DISCONNECTED') {
        // The server answered with a refusal: sending it again would be refused again.
        this.removeFromOutbox(item);
        this.emit('sendFailed', { clientMsgId: item.clientMsgId, error: clientError });
        item.reject(clientError);
      }
    }
  }

  /** One timer for every refused send, so they go again together and in outbox order. */
  private resendLater(delayMs: number): void {
    if (this.resendTimer) return;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = null;
      if (this.state === 'online') for (const item of this.outbox) void this.transmit(item);
    }, delayMs);
  }

  private removeFromOutbox(item: QueuedSend): void {
    const index = this.outbox.indexOf(item);
    if (index >= 0) this.outbox.splice(index, 1);
  }

  private failPending(error: ClientError): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }
}

/** An OpenSSL error, or a close in the middle of the handshake: the peer does not speak TLS. */
function isTlsFailure(error: NodeJS.ErrnoException): boolean {
  return (error.code?.startsWith('ERR_SSL_') ?? false) || /before secure TLS connection/.test(error.message);
}

function describeSocketError(error: NodeJS.ErrnoException, host: string, port: number): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `nothing is listening on ${host}:${port}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host} could not be found`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} cannot be reached from this network`;
    case 'ETIMEDOUT':
      return `no answer from ${host}:${port}`;
    default:
      return `could not connect to ${host}:${port}: ${error.message}`;
  }
}
