/**
 * The chat server: accepts framed TCP connections, authenticates users and
 * carries out every request against the store. Plain Node; the desktop app and
 * the headless host both embed it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import type { ChatMessage, Contact, GroupInfo } from '../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM, dmConversation, groupConversation } from '../../src-shared/protocol/conversation.js';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { LIMITS, PROTOCOL_MAJOR, PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import type { PushFrame } from '../../src-shared/protocol/pushes.js';
import { type Request, type RequestResults, type RequestType, parseRequest } from '../../src-shared/protocol/requests.js';
import { checkGroupName, checkUserName, lookalikeSkeletons, nameSkeleton } from '../../src-shared/text.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { Connection } from '../net/connection.js';
import { type DecodedFrame, encodeFrame } from '../net/frame.js';
import { TlsGate, type TlsIdentity } from '../net/tls.js';
import type { GroupRow, InsertResult, NewMessage, RelationRow, ServerStore, UserRow } from '../store/types.js';
import { StoreConflictError } from '../store/types.js';
import { type AccessOptions, RoomAccess, type RoomLimits, addressHost, roomLimits } from './access.js';
import { ServerAdmin, closeUserSessions } from './admin.js';
import type { ServerLog } from './log.js';
import { ConnectionRateLimiter, MAX_RATE_PAUSE_MS, type RateLimits, resolveRateLimits } from './rate-limit.js';
import { hashPassword, verifyPassword } from './password.js';
import { LoginThrottle, type ThrottleOptions } from './throttle.js';

export const SERVER_NAME = 'lanchat/0.1.0';
/** A flooding connection is noted in the log at most this often. */
const RATE_LOG_EVERY_MS = 10_000;

export interface ServerOptions {
  store: ServerStore;
  log: ServerLog;
  /** Who may register; without it the mode saved in the store applies (open if none). */
  access?: AccessOptions;
  /** Failed-login throttling per name and per address. */
  throttle?: ThrottleOptions;
  limits?: Partial<RoomLimits>;
  roomName?: string;
  /** A client silent this long is dropped and announced offline. */
  heartbeatTimeoutMs?: number;
  /** A connection that has not logged in by then is closed. */
  authTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Unread bytes a client may hold before it is dropped. */
  maxQueuedBytes?: number;
  /** Bad frames in a row before the connection is closed. */
  maxConsecutiveErrors?: number;
  /** scrypt cost (log2 N) for new passwords. */
  passwordCost?: number;
  /** The room's certificate: every connection must use TLS. Null serves plain TCP. */
  tls: TlsIdentity | null;
  /** Per-connection frame and byte rates (rate-limit.ts); Infinity turns one off. */
  rateLimits?: Partial<RateLimits>;
  /** A frame begun but not finished this long after its first byte closes the connection. */
  frameTimeoutMs?: number;
}

/** A refusal with a stable code, sent back as the request's error. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Sent with TOO_MANY_ATTEMPTS, and with STORAGE_FULL for a user's daily quota. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface Session {
  connection: Connection;
  helloDone: boolean;
  /** The client's name and version from hello. */
  clientName: string | null;
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
  limiter: ConnectionRateLimiter;
  /** When the log last noted this connection's refusals for rate (it notes one per RATE_LOG_EVERY_MS). */
  rateLoggedAt: number;
}

/** A validated send waiting for the group commit. */
interface WaitingSend {
  requestId: number;
  message: NewMessage;
  /** Users to push it to; null for the room (everyone). */
  recipients: number[] | null;
  session: Session;
  resolve: (answered: typeof ANSWERED) => void;
  reject: (error: unknown) => void;
}

/** What a handler returns when it has written its response itself (see commitWaitingSends). */
const ANSWERED = Symbol('answered');

type Handlers = {
  [T in RequestType]: (
    session: Session & { user: UserRow },
    request: Request<T>,
  ) => RequestResults[T] | Promise<RequestResults[T] | typeof ANSWERED>;
};

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export class ChatServer {
  readonly roomName: string;
  /** The host's controls: kick, ban, mute, approvals, password resets. */
  readonly admin: ServerAdmin;
  private readonly store: ServerStore;
  private readonly access: RoomAccess;
  private readonly throttle: LoginThrottle;
  private readonly limits: RoomLimits;
  private readonly log: ServerLog;
  private readonly heartbeatTimeoutMs: number;
  private readonly authTimeoutMs: number;
  private readonly maxFrameBytes: number;
  private readonly maxQueuedBytes: number;
  private readonly maxConsecutiveErrors: number;
  private readonly passwordCost: number | undefined;
  private readonly rateLimits: RateLimits;
  private readonly frameTimeoutMs: number;
  private readonly sessions = new Set<Session>();
  /** Logged-in sessions by user id. */
  private readonly online = new Map<number, Set<Session>>();
  private server: Server | null = null;
  private readonly tlsGate: TlsGate | null;
  private sweeper: NodeJS.Timeout | null = null;
  /** Sends of this turn, not yet stored (see storeWithOthers). */
  private readonly waitingSends: WaitingSend[] = [];

  constructor(options: ServerOptions) {
    this.store = options.store;
    this.log = options.log;
    this.roomName = options.roomName ?? 'Room';
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 20_000;
    this.authTimeoutMs = options.authTimeoutMs ?? 30_000;
    this.maxFrameBytes = options.maxFrameBytes ?? LIMITS.maxFrameBytes;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.maxConsecutiveErrors = options.maxConsecutiveErrors ?? 10;
    this.passwordCost = options.passwordCost;
    this.tlsGate = options.tls
      ? new TlsGate({
          identity: options.tls,
          handshakeTimeoutMs: this.authTimeoutMs,
          onSecure: (socket) => this.accept(socket),
          onRejected: (address, reason) => this.log.warn('connection refused', { address, reason }),
        })
      : null;
    this.rateLimits = resolveRateLimits(options.rateLimits);
    this.frameTimeoutMs = options.frameTimeoutMs ?? 30_000;
    this.limits = roomLimits(options.limits);
    this.throttle = new LoginThrottle(options.throttle);
    this.access = new RoomAccess(this.store, options.access, this.passwordCost);
    this.admin = new ServerAdmin({
      store: this.store,
      log: this.log,
      access: this.access,
      passwordCost: this.passwordCost,
      sessions: this.sessions,
    });
  }

  /** Resolves once the access mode given at construction is in force (and saved). */
  get ready(): Promise<void> {
    return this.access.ready;
  }

  /** Starts listening; resolves with the bound address. Port 0 picks a free port. */
  listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    const server = createServer((socket) => (this.tlsGate ? this.tlsGate.admit(socket) : this.accept(socket)));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        server.on('error', (error) => this.log.error('server error', { error: String(error) }));
        const address = server.address() as AddressInfo;
        this.log.info('listening', { address: address.address, port: address.port, tls: this.tlsGate !== null });
        const shortest = Math.min(this.heartbeatTimeoutMs, this.authTimeoutMs, this.frameTimeoutMs);
        const interval = Math.max(50, Math.min(1000, shortest / 4));
        this.sweeper = setInterval(() => this.sweep(), interval);
        this.sweeper.unref();
        resolve(address);
      });
    });
  }

  /** Tells every client the server is going away, closes them and stops listening. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    const closed = [...this.sessions].map(
      (session) =>
        new Promise<void>((resolve) => {
          session.connection.onClose(() => resolve());
          session.connection.close({ code: ErrorCode.SERVER_SHUTDOWN, message: 'the host stopped the server' });
        }),
    );
    const server = this.server;
    this.server = null;
    this.tlsGate?.closeAll();
    await Promise.all([...closed, server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined]);
    this.log.info('stopped');
  }

  /** Every open connection with the bytes queued for it that the client has not read yet. */
  connectionStats(): { address: string; user: string | null; queuedBytes: number }[] {
    return [...this.sessions].map((session) => ({
      address: session.connection.remoteAddress,
      user: session.user?.name ?? null,
      queuedBytes: session.connection.queuedBytes,
    }));
  }

  /** Takes over a connected socket (plain, or TLS once the gate has finished the handshake). */
  accept(socket: Socket): void {
    const connection = new Connection(socket, { maxFrameBytes: this.maxFrameBytes, maxQueuedBytes: this.maxQueuedBytes });
    const session: Session = {
      connection,
      helloDone: false,
      clientName: null,
      user: null,
      tokenHash: null,
      consecutiveErrors: 0,
      openedAt: Date.now(),
      sentUpTo: 0,
      syncedTo: 0,
      closeAfterReply: null,
      limiter: new ConnectionRateLimiter(this.rateLimits),
      rateLoggedAt: 0,
    };
    this.sessions.add(session);
    this.log.info('connection', { address: connection.remoteAddress });
    connection.onClose((reason) => this.onClosed(session, reason));
    // After onClose, so a refused connection leaves the session list like any other.
    if (this.refuseBannedAddress(session)) return;
    connection.onFrame((frame) => {
      if (frame.kind === 'oversize') {
        this.log.warn('bad frame', { address: connection.remoteAddress, reason: `declared length ${frame.declared}` });
        connection.close({
          code: ErrorCode.FRAME_TOO_LARGE,
          message:
            frame.declared === 0
              ? 'a frame length of 0 is not allowed'
              : `frame of ${frame.declared} bytes is over the limit of ${this.maxFrameBytes}`,
        });
        return;
      }
      const wait = session.limiter.admit(connection.receivedBytes);
      if (wait > 0) return this.refuseForRate(session, frame, wait);
      if (frame.kind === 'invalid') {
        this.refuse(session, null, { code: ErrorCode.BAD_FRAME, message: frame.reason });
        return;
      }
      return this.handleValue(session, frame.value);
    });
  }

  // ------------------------------------------------------------ dispatch

  private handleValue(session: Session, value: unknown): void | Promise<void> {
    if (session.closeAfterReply) return;
    const type = (value as { type?: unknown } | null)?.type;
    if (type === 'ping') {
      session.connection.send({ type: 'pong' });
      return;
    }
    if (type === 'pong') return;
    const parsed = parseRequest(value);
    if (!parsed.ok) {
      this.refuse(session, parsed.id, parsed.error);
      return;
    }
    const request = parsed.request;
    if (request.type === 'hello') return this.hello(session, request);
    if (!session.helloDone) {
      this.refuse(session, request.id, { code: ErrorCode.HELLO_REQUIRED, message: 'send hello first' });
      return;
    }
    if (request.type === 'login') return this.run(session, request, () => this.login(session, request));
    if (!session.user) {
      this.refuse(session, request.id, { code: ErrorCode.NOT_LOGGED_IN, message: 'log in first' });
      return;
    }
    const handler = this.handlers[request.type] as (s: Session & { user: UserRow }, r: Request) => unknown;
    return this.run(session, request, () => handler(session as Session & { user: UserRow }, request));
  }

  /** Runs a handler and sends its one response, ok or error. */
  private run(session: Session, request: Request, work: () => unknown): void | Promise<void> {
    const reply = (result: unknown): void => {
      session.consecutiveErrors = 0;
      if (result !== ANSWERED) session.connection.send({ type: 'res', id: request.id, ok: true, result });
      if (session.closeAfterReply) session.connection.close(session.closeAfterReply);
    };
    const fail = (error: unknown): void => {
      if (error instanceof RequestError) {
        const wire: WireError = { code: error.code, message: error.message };
        if (error.retryAfterMs !== undefined) wire.retryAfterMs = error.retryAfterMs;
        session.connection.send({ type: 'res', id: request.id, ok: false, error: wire });
        return;
      }
      this.log.error('internal error', { type: request.type, error: error instanceof Error ? error.stack : String(error) });
      session.connection.send({ type: 'res', id: request.id, ok: false, error: describeInternalError(error) });
    };
    try {
      const result = work();
      if (result instanceof Promise) return result.then(reply, fail);
      reply(result);
    } catch (error) {
      fail(error);
    }
  }

  /** Answers a bad frame; too many in a row closes the connection. */
  private refuse(session: Session, id: number | null, error: WireError): void {
    session.consecutiveErrors += 1;
    this.log.warn('bad frame', { address: session.connection.remoteAddress, code: error.code, reason: error.message });
    if (session.consecutiveErrors >= this.maxConsecutiveErrors) {
      session.connection.close({ code: ErrorCode.TOO_MANY_ERRORS, message: `${session.consecutiveErrors} bad frames in a row` });
      return;
    }
    session.connection.send(id === null ? { type: 'error', error } : { type: 'res', id, ok: false, error });
  }

  /** Refuses a frame over the connection's rate, then reads nothing from it for a while. */
  private refuseForRate(session: Session, frame: DecodedFrame, wait: number): Promise<void> {
    const connection = session.connection;
    if (Date.now() - session.rateLoggedAt > RATE_LOG_EVERY_MS) {
      session.rateLoggedAt = Date.now();
      this.log.warn('rate limited', { address: connection.remoteAddress, ...(session.user ? { user: session.user.name } : {}) });
    }
    const error: WireError = { code: ErrorCode.RATE_LIMITED, message: session.limiter.describe(wait), retryAfterMs: wait };
    const id = frame.kind === 'frame' ? requestIdOf(frame.value) : null;
    connection.send(id === null ? { type: 'error', error } : { type: 'res', id, ok: false, error });
    return new Promise((resolve) => setTimeout(resolve, Math.min(wait, MAX_RATE_PAUSE_MS)).unref());
  }

  private hello(session: Session, request: Request<'hello'>): void {
    const major = Number(request.protocol.split('.')[0]);
    if (major !== PROTOCOL_MAJOR) {
      const error = {
        code: ErrorCode.PROTOCOL_VERSION,
        message: `this server speaks protocol ${PROTOCOL_VERSION}; client speaks ${request.protocol}`,
      };
      this.log.warn('protocol mismatch', { address: session.connection.remoteAddress, client: request.protocol });
      session.connection.send({ type: 'res', id: request.id, ok: false, error });
      session.connection.close(error);
      return;
    }
    session.helloDone = true;
    session.clientName = request.client ?? null;
    const result: RequestResults['hello'] = {
      protocol: PROTOCOL_VERSION,
      server: SERVER_NAME,
      room: this.roomName,
      heartbeatMs: this.heartbeatTimeoutMs,
      maxFrameBytes: this.maxFrameBytes,
      maxTextLength: LIMITS.maxTextLength,
    };
    session.consecutiveErrors = 0;
    session.connection.send({ type: 'res', id: request.id, ok: true, result });
  }

  // ------------------------------------------------------------ accounts and presence

  private async login(session: Session, request: Request<'login'>): Promise<RequestResults['login']> {
    if (session.user) throw new RequestError(ErrorCode.ALREADY_LOGGED_IN, `already logged in as ${session.user.name}`);
    const address = session.connection.remoteAddress;
    const checked = checkUserName(request.name);
    if (!checked.ok) throw new RequestError(ErrorCode.NAME_INVALID, checked.reason);
    const key = nameKey(checked.name);
    this.refuseBanned(key, address);
    const throttleKeys = this.throttleKeys(key, address);
    this.refuseThrottled(throttleKeys, checked.name, address);
    const existing = this.store.userByKey(key);
    let user: UserRow;
    let registered = false;
    let token: string;
    if (request.token !== undefined) {
      const tokenHash = sha256(request.token);
      if (!existing || this.store.sessionUserId(tokenHash) !== existing.id) {
        this.log.warn('failed login', { user: checked.name, address, reason: 'bad token' });
        throw new RequestError(ErrorCode.BAD_TOKEN, 'this session has ended; log in with your password');
      }
      user = existing;
      token = request.token;
    } else {
      const password = request.password!;
      if (existing) {
        if (!(await this.throttledCheck(throttleKeys, () => verifyPassword(password, existing.passwordHash)))) {
          this.throttle.recordFailure(throttleKeys);
          this.log.warn('failed login', { user: existing.name, address, reason: 'wrong password' });
          throw new RequestError(ErrorCode.WRONG_PASSWORD, `wrong password for ${existing.name}`);
        }
        if (existing.status === 'pending') throw pendingApproval(existing.name);
        user = existing;
      } else {
        user = await this.register(checked.name, password, address, request.passphrase, throttleKeys);
        registered = true;
      }
      this.throttle.reset(throttleKeys[0]!);
      token = randomBytes(32).toString('base64url');
      this.store.createSession(sha256(token), user.id, Date.now());
    }
    if (!session.connection.isOpen) throw new RequestError(ErrorCode.INTERNAL, 'connection closed during login');
    session.user = user;
    session.tokenHash = sha256(token);
    this.log.info('login', { user: user.name, address, client: session.clientName });
    if (registered) this.store.setDeliveredCursor(user.id, this.store.lastMessageId());
    this.goOnline(session, user);
    return {
      name: user.name,
      registered,
      token,
      lastMessageId: this.store.lastMessageId(),
      deliveredUpTo: this.store.deliveredCursor(user.id),
    };
  }

  /** Creates the account as the access mode allows: at once, with the room passphrase, or pending approval. */
  private async register(
    name: string,
    password: string,
    address: string,
    passphrase: string | undefined,
    throttleKeys: string[],
  ): Promise<UserRow> {
    if ([...name].length > this.limits.maxNameLength) {
      throw new RequestError(ErrorCode.NAME_INVALID, `a name has at most ${this.limits.maxNameLength} characters in this room`);
    }
    const skeleton = nameSkeleton(name);
    const lookalike = lookalikeSkeletons(name)
      .map((candidate) => this.store.userBySkeleton(candidate))
      .find((user) => user !== undefined);
    if (lookalike) {
      this.log.warn('registration refused', { user: name, address, reason: `looks like ${lookalike.name}` });
      throw new RequestError(ErrorCode.NAME_TAKEN, `the name ${name} is too close to the existing user ${lookalike.name}`);
    }
    await this.access.ready;
    // The host's own account joins its own room whatever the mode.
    const mode = this.admin.isProtected(name) ? 'open' : this.access.mode;
    if (mode === 'passphrase' && !(await this.throttledCheck(throttleKeys, () => this.access.passphraseMatches(passphrase)))) {
      this.throttle.recordFailure(throttleKeys);
      this.log.warn('registration refused', { user: name, address, reason: passphrase ? 'wrong passphrase' : 'no passphrase' });
      throw new RequestError(
        ErrorCode.PASSPHRASE_REQUIRED,
        passphrase ? 'wrong room passphrase; ask the host for it' : 'this room needs its passphrase to create an account',
      );
    }
    const status = mode === 'approval' ? 'pending' : 'active';
    if (status === 'pending' && this.store.pendingUsers().length >= this.limits.maxPendingAccounts) {
      this.log.warn('registration refused', { user: name, address, reason: 'too many pending accounts' });
      throw new RequestError(ErrorCode.LIMIT_REACHED, 'too many new accounts wait for the host’s approval; try again later');
    }
    const passwordHash = await hashPassword(password, this.passwordCost);
    let user: UserRow;
    try {
      user = this.store.createUser({ name, nameKey: nameKey(name), skeleton, passwordHash, createdAt: Date.now(), status });
    } catch (error) {
      if (error instanceof StoreConflictError) throw new RequestError(ErrorCode.NAME_TAKEN, `the name ${name} was just taken`);
      throw error;
    }
    if (status === 'pending') {
      this.log.info('registration pending', { user: name, address });
      throw pendingApproval(name);
    }
    this.log.info('registration', { user: name, address });
    return user;
  }

  /**
   * Runs a password or passphrase check counted as under way for the throttle while it runs.
   * Only under the name: many people behind one address (an office NAT, every client after the
   * host restarts) log in at once, and counting their checks by address would refuse them all.
   */
  private async throttledCheck(throttleKeys: string[], check: () => Promise<boolean>): Promise<boolean> {
    const done = this.throttle.begin(throttleKeys.slice(0, 1));
    try {
      return await check();
    } finally {
      done();
    }
  }

  /** Throttle keys of a login: the name first, then the address. */
  private throttleKeys(key: string, address: string): string[] {
    return [`name:${key}`, `address:${addressHost(address)}`];
  }

  private refuseThrottled(throttleKeys: string[], name: string, address: string): void {
    const retryAfterMs = this.throttle.retryAfterMs(throttleKeys);
    if (retryAfterMs <= 0) return;
    this.log.warn('login throttled', { user: name, address, retryAfterMs });
    throw new RequestError(
      ErrorCode.TOO_MANY_ATTEMPTS,
      `too many failed attempts; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
      retryAfterMs,
    );
  }

  private refuseBanned(key: string, address: string): void {
    if (!this.store.isBanned('name', key) && !this.store.isBanned('address', addressHost(address))) return;
    this.log.warn('login refused', { user: key, address, reason: 'banned' });
    throw new RequestError(ErrorCode.BANNED, 'the host banned this account or address from the room');
  }

  /** Closes a new connection from a banned address; true when it did. */
  private refuseBannedAddress(session: Session): boolean {
    const address = session.connection.remoteAddress;
    if (!this.store.isBanned('address', addressHost(address))) return false;
    this.log.warn('connection refused', { address, reason: 'banned' });
    session.connection.close({ code: ErrorCode.BANNED, message: 'the host banned your address from this room' });
    return true;
  }

  private goOnline(session: Session, user: UserRow): void {
    let sessions = this.online.get(user.id);
    const first = !sessions;
    if (!sessions) {
      sessions = new Set();
      this.online.set(user.id, sessions);
    }
    sessions.add(session);
    const now = Date.now();
    this.store.setLastSeen(user.id, now);
    if (first) this.broadcast({ type: 'presence', user: user.name, online: true, ts: now }, session);
  }

  private onClosed(session: Session, reason: WireError | null): void {
    this.sessions.delete(session);
    const user = session.user;
    this.log.info('disconnect', {
      address: session.connection.remoteAddress,
      ...(user ? { user: user.name } : {}),
      reason: reason ? reason.code : 'closed by client',
    });
    if (!user) return;
    const sessions = this.online.get(user.id);
    if (!sessions) return;
    sessions.delete(session);
    if (sessions.size > 0) return;
    this.online.delete(user.id);
    const now = Date.now();
    // What sat in the socket of a connection that died may never have arrived:
    // then only what the client itself said it holds counts.
    const clean = reason === null || reason.code === ErrorCode.LOGGED_OUT || reason.code === ErrorCode.SERVER_SHUTDOWN;
    const reached = clean ? session.sentUpTo : session.syncedTo;
    try {
      this.store.setLastSeen(user.id, now);
      if (reached > this.store.deliveredCursor(user.id)) this.store.setDeliveredCursor(user.id, reached);
    } catch (error) {
      // A full disk must not take the host down with it; the user is offline all the same.
      this.log.error('last seen not stored', { user: user.name, error: String(error) });
    }
    this.broadcast({ type: 'presence', user: user.name, online: false, ts: now });
  }

  /** Drops connections silent past the heartbeat timeout, stalled in a frame, or that never logged in. */
  private sweep(): void {
    const now = Date.now();
    for (const session of this.sessions) {
      const connection = session.connection;
      if (!connection.isOpen) continue;
      if (now - connection.lastReceivedAt > this.heartbeatTimeoutMs) {
        this.log.warn('heartbeat timeout', {
          address: connection.remoteAddress,
          ...(session.user ? { user: session.user.name } : {}),
        });
        connection.close({
          code: ErrorCode.HEARTBEAT_TIMEOUT,
          message: `nothing heard for ${Math.round(this.heartbeatTimeoutMs / 1000)} s`,
        });
      } else if (connection.partialFrameSince !== null && now - connection.partialFrameSince > this.frameTimeoutMs) {
        this.log.warn('frame timeout', { address: connection.remoteAddress, ...(session.user ? { user: session.user.name } : {}) });
        connection.close({
          code: ErrorCode.FRAME_TIMEOUT,
          message: `a frame was begun and not finished within ${Math.round(this.frameTimeoutMs / 1000)} s`,
        });
      } else if (!session.user && now - session.openedAt > this.authTimeoutMs) {
        this.log.warn('login timeout', { address: connection.remoteAddress });
        connection.close({ code: ErrorCode.NOT_LOGGED_IN, message: 'no login in time' });
      }
    }
  }

  // ------------------------------------------------------------ delivery

  /**
   * Encodes once and writes the same bytes to every logged-in session (but `except`).
   * Presence goes lazily (see Connection.sendEncoded): a storm of logins costs each
   * peer one write per LAZY_FLUSH_MS, not one per login.
   */
  private broadcast(frame: PushFrame, except?: Session): void {
    const lazy = frame.type === 'presence';
    const bytes = encodeFrame(frame);
    const messageId = frame.type === 'message' ? frame.message.id : 0;
    for (const sessions of this.online.values()) {
      for (const session of sessions) {
        if (session === except) continue;
        session.connection.sendEncoded(bytes, lazy);
        if (messageId > session.sentUpTo) session.sentUpTo = messageId;
      }
    }
  }

  /** Sends one frame to every session of the given users (but `except`). */
  private deliver(userIds: Iterable<number>, frame: PushFrame, except?: Session): void {
    let bytes: Buffer | null = null;
    const messageId = frame.type === 'message' ? frame.message.id : 0;
    for (const userId of userIds) {
      const sessions = this.online.get(userId);
      if (!sessions) continue;
      bytes ??= encodeFrame(frame);
      for (const session of sessions) {
        if (session === except) continue;
        session.connection.sendEncoded(bytes);
        if (messageId > session.sentUpTo) session.sentUpTo = messageId;
      }
    }
  }

  /** Whether anyone among the users, other than `me`, is online. */
  private anyoneElseOnline(userIds: Iterable<number> | null, me: number): boolean {
    if (userIds === null) return this.online.size > (this.online.has(me) ? 1 : 0);
    for (const id of userIds) if (id !== me && this.online.has(id)) return true;
    return false;
  }

  /**
   * After a user caught up, tells the senders of the messages it got that they arrived, so a
   * message sent while nobody else was online still turns "delivered" once someone has it.
   */
  private reportCaughtUp(me: UserRow, messages: ChatMessage[]): void {
    const newest = new Map<string, { conv: ConversationKey; upTo: number; from: string }>();
    for (const message of messages) {
      const fromKey = nameKey(message.from);
      if (fromKey === me.nameKey) continue;
      newest.set(`${fromKey}\n${message.conv}`, { conv: message.conv, upTo: message.id, from: message.from });
    }
    for (const { conv, upTo, from } of newest.values()) {
      const sender = this.store.userByKey(nameKey(from));
      if (sender) this.deliver([sender.id], { type: 'delivered', conv, upTo });
    }
  }

  // ------------------------------------------------------------ lookups

  private userNamed(name: string): UserRow {
    const user = this.store.userByKey(nameKey(name.normalize('NFC')));
    if (!user || user.status === 'pending') throw new RequestError(ErrorCode.UNKNOWN_USER, `no user named ${name}`);
    return user;
  }

  private otherUser(me: UserRow, name: string): UserRow {
    const user = this.userNamed(name);
    if (user.id === me.id) throw new RequestError(ErrorCode.INVALID_TARGET, 'that is you');
    return user;
  }

  /** The group, if the user is a member; otherwise it does not exist for them. */
  private memberGroup(me: UserRow, groupId: number): GroupRow {
    const group = this.store.groupById(groupId);
    if (!group || !this.store.isMember(groupId, me.id)) {
      throw new RequestError(ErrorCode.UNKNOWN_GROUP, `you are in no group with id ${groupId}`);
    }
    return group;
  }

  private ownedGroup(me: UserRow, groupId: number): GroupRow {
    const group = this.memberGroup(me, groupId);
    if (group.ownerId !== me.id) {
      throw new RequestError(ErrorCode.NOT_GROUP_OWNER, `only the owner of ${group.name} can change it`);
    }
    return group;
  }

  private groupInfo(group: GroupRow): GroupInfo {
    const members = this.store
      .memberIds(group.id)
      .map((id) => this.store.userById(id)!.name)
      .sort((a, b) => nameKey(a).localeCompare(nameKey(b)));
    return {
      id: group.id,
      name: group.name,
      owner: this.store.userById(group.ownerId)!.name,
      members,
      conv: groupConversation(group.id),
    };
  }

  private contact(me: UserRow, relation: RelationRow): Contact {
    const otherId = relation.userLow === me.id ? relation.userHigh : relation.userLow;
    const mine = relation.requesterId === me.id;
    const state =
      relation.state === 'accepted'
        ? 'accepted'
        : relation.state === 'pending'
          ? mine
            ? 'outgoing'
            : 'incoming'
          : mine
            ? 'declined-by-them'
            : 'declined-by-me';
    return {
      name: this.store.userById(otherId)!.name,
      state,
      conv: dmConversation(me.id, otherId),
      since: relation.since,
    };
  }

  /** Whether the user may read a conversation. */
  private canRead(me: UserRow, conv: ConversationKey): boolean {
    if (conv === ROOM) return true;
    const [kind, a, b] = conv.split(':');
    if (kind === 'dm') return Number(a) === me.id || Number(b) === me.id;
    if (kind === 'group') return this.store.isMember(Number(a), me.id);
    return false;
  }

  // ------------------------------------------------------------ chat requests

  /** Asks `other` for a private chat, or accepts their pending request; returns the relation now. */
  private openChat(session: Session, me: UserRow, other: UserRow, now: number): RelationRow {
    const relation = this.store.relation(me.id, other.id);
    if (relation?.state === 'accepted') return relation;
    if (relation?.state === 'pending' && relation.requesterId === me.id) return relation;
    if (relation?.state === 'declined' && relation.requesterId === me.id) {
      throw new RequestError(ErrorCode.CHAT_DECLINED, `${other.name} declined your chat request`);
    }
    if (relation?.state === 'pending') {
      const accepted = this.store.setRelation(me.id, other.id, 'accepted', other.id, now);
      this.log.info('chat request answered', { user: me.name, requester: other.name, accepted: true });
      this.deliver([other.id, me.id], { type: 'chatAnswer', from: me.name, to: other.name, accepted: true, ts: now }, session);
      return accepted;
    }
    const pending = this.store.setRelation(me.id, other.id, 'pending', me.id, now);
    this.log.info('chat request', { user: me.name, to: other.name });
    this.deliver([other.id, me.id], { type: 'chatRequest', from: me.name, to: other.name, ts: now }, session);
    return pending;
  }

  // ------------------------------------------------------------ request handlers

  private readonly handlers: Omit<Handlers, 'hello' | 'login'> = {
    changePassword: async (session, request) => {
      const me = session.user;
      const address = session.connection.remoteAddress;
      const throttleKeys = this.throttleKeys(me.nameKey, address);
      this.refuseThrottled(throttleKeys, me.name, address);
      const stored = this.store.userById(me.id)!;
      if (!(await this.throttledCheck(throttleKeys, () => verifyPassword(request.current, stored.passwordHash)))) {
        this.throttle.recordFailure(throttleKeys);
        this.log.warn('password change refused', { user: me.name, address, reason: 'wrong current password' });
        throw new RequestError(ErrorCode.WRONG_PASSWORD, 'the current password is wrong');
      }
      this.store.setPasswordHash(me.id, await hashPassword(request.password, this.passwordCost));
      this.store.deleteSessionsOf(me.id, session.tokenHash ?? undefined);
      const closed = closeUserSessions(
        this.sessions,
        me.id,
        { code: ErrorCode.PASSWORD_CHANGED, message: 'your password was changed on another device; log in with the new one' },
        session,
      );
      this.log.info('password changed', { user: me.name, address, otherConnectionsClosed: closed });
      return {};
    },

    logout: (session) => {
      if (session.tokenHash) this.store.deleteSession(session.tokenHash);
      this.log.info('logout', { user: session.user.name });
      session.closeAfterReply = { code: ErrorCode.LOGGED_OUT, message: 'logged out' };
      return {};
    },

    send: (session, request) => {
      const me = session.user;
      const stored = this.store.messageByClientId(me.id, request.clientMsgId);
      if (stored) return { message: stored, duplicate: true, delivered: false };
      this.refuseMuted(me);
      const now = Date.now();
      let conv: ConversationKey;
      let recipients: number[] | null = null;
      let toUserId: number | undefined;
      let groupId: number | undefined;
      const to = request.to;
      if (to.kind === 'room') {
        conv = ROOM;
      } else if (to.kind === 'dm') {
        const other = this.otherUser(me, to.user);
        this.openChat(session, me, other, now);
        conv = dmConversation(me.id, other.id);
        recipients = [me.id, other.id];
        toUserId = other.id;
      } else {
        const group = this.memberGroup(me, to.groupId);
        conv = groupConversation(group.id);
        recipients = this.store.memberIds(group.id);
        groupId = group.id;
      }
      return this.storeWithOthers({
        requestId: request.id,
        message: {
          conv,
          senderId: me.id,
          clientMsgId: request.clientMsgId,
          text: request.text,
          ts: now,
          ...(toUserId !== undefined ? { toUserId } : {}),
          ...(groupId !== undefined ? { groupId } : {}),
        },
        recipients,
        session,
      });
    },

    history: (session, request) => {
      if (!this.canRead(session.user, request.conv)) {
        throw new RequestError(ErrorCode.UNKNOWN_CONVERSATION, `no conversation ${request.conv} for you`);
      }
      return this.store.history(request.conv, request.before, request.limit ?? LIMITS.defaultPageSize);
    },

    sync: (session, request) => {
      const page = this.store.sync(session.user.id, request.after, request.limit ?? LIMITS.defaultPageSize);
      session.syncedTo = Math.max(session.syncedTo, request.after);
      const last = page.messages.at(-1);
      if (last && last.id > session.sentUpTo) session.sentUpTo = last.id;
      this.reportCaughtUp(session.user, page.messages);
      return page;
    },

    users: () => ({
      users: this.store.listUsers().map((user) => ({
        name: user.name,
        online: this.online.has(user.id),
        lastSeen: user.lastSeen,
      })),
    }),

    contacts: (session) => ({
      contacts: this.store.relationsOf(session.user.id).map((relation) => this.contact(session.user, relation)),
    }),

    search: async (session, request) => {
      const person = request.person === undefined ? undefined : this.userNamed(request.person);
      const page = await this.store.search(session.user.id, {
        query: request.query,
        ...(person ? { personId: person.id } : {}),
        ...(request.before !== undefined ? { before: request.before } : {}),
        limit: request.limit ?? LIMITS.defaultPageSize,
      });
      return { hits: page.messages.map((message: ChatMessage) => ({ message })), hasMore: page.hasMore };
    },

    chatRequest: (session, request) => {
      const other = this.otherUser(session.user, request.user);
      return { contact: this.contact(session.user, this.openChat(session, session.user, other, Date.now())) };
    },

    chatAnswer: (session, request) => {
      const me = session.user;
      const other = this.otherUser(me, request.user);
      const relation = this.store.relation(me.id, other.id);
      if (relation?.state !== 'pending' || relation.requesterId !== other.id) {
        throw new RequestError(ErrorCode.NO_CHAT_REQUEST, `${other.name} has not asked to chat with you`);
      }
      const now = Date.now();
      const answered = this.store.setRelation(me.id, other.id, request.accept ? 'accepted' : 'declined', other.id, now);
      this.log.info('chat request answered', { user: me.name, requester: other.name, accepted: request.accept });
      this.deliver(
        [other.id, me.id],
        { type: 'chatAnswer', from: me.name, to: other.name, accepted: request.accept, ts: now },
        session,
      );
      return { contact: this.contact(me, answered) };
    },

    chatLeave: (session, request) => {
      const me = session.user;
      const other = this.otherUser(me, request.user);
      const relation = this.store.relation(me.id, other.id);
      const open = relation?.state === 'accepted' || (relation?.state === 'pending' && relation.requesterId === me.id);
      if (!open) throw new RequestError(ErrorCode.NO_CHAT_REQUEST, `you have no open chat with ${other.name}`);
      this.store.deleteRelation(me.id, other.id);
      const now = Date.now();
      this.log.info('chat left', { user: me.name, with: other.name });
      this.deliver([other.id, me.id], { type: 'chatLeft', user: me.name, with: other.name, ts: now }, session);
      return {};
    },

    groups: (session) => ({ groups: this.store.groupsOf(session.user.id).map((group) => this.groupInfo(group)) }),

    groupCreate: (session, request) => {
      const checked = checkGroupName(request.name, this.limits.maxGroupNameLength);
      if (!checked.ok) throw new RequestError(ErrorCode.NAME_INVALID, checked.reason);
      if (this.store.groupsOwnedCount(session.user.id) >= this.limits.maxGroupsPerOwner) {
        throw new RequestError(ErrorCode.LIMIT_REACHED, `you own ${this.limits.maxGroupsPerOwner} groups, the most this room allows`);
      }
      let group: GroupRow;
      try {
        group = this.store.createGroup(checked.name, nameKey(checked.name), session.user.id, Date.now());
      } catch (error) {
        if (error instanceof StoreConflictError) {
          throw new RequestError(ErrorCode.GROUP_EXISTS, `a group named ${checked.name} already exists`);
        }
        throw error;
      }
      const info = this.groupInfo(group);
      this.log.info('group created', { user: session.user.name, group: info.name });
      this.deliver([session.user.id], { type: 'group', group: info }, session);
      return { group: info };
    },

    groupRename: (session, request) => {
      const group = this.ownedGroup(session.user, request.groupId);
      const checked = checkGroupName(request.name, this.limits.maxGroupNameLength);
      if (!checked.ok) throw new RequestError(ErrorCode.NAME_INVALID, checked.reason);
      try {
        this.store.renameGroup(group.id, checked.name, nameKey(checked.name));
      } catch (error) {
        if (error instanceof StoreConflictError) {
          throw new RequestError(ErrorCode.GROUP_EXISTS, `a group named ${checked.name} already exists`);
        }
        throw error;
      }
      return { group: this.announceGroup(session, group.id) };
    },

    groupDelete: (session, request) => {
      const group = this.ownedGroup(session.user, request.groupId);
      const members = this.store.memberIds(group.id);
      this.store.deleteGroup(group.id);
      this.log.info('group deleted', { user: session.user.name, group: group.name });
      this.deliver(members, { type: 'groupRemoved', groupId: group.id, name: group.name, reason: 'deleted' }, session);
      return {};
    },

    groupAddMember: (session, request) => {
      const group = this.ownedGroup(session.user, request.groupId);
      const user = this.userNamed(request.user);
      if (!this.store.isMember(group.id, user.id) && this.store.memberIds(group.id).length >= this.limits.maxGroupMembers) {
        throw new RequestError(ErrorCode.LIMIT_REACHED, `${group.name} has ${this.limits.maxGroupMembers} members, the most this room allows`);
      }
      this.store.addMember(group.id, user.id);
      return { group: this.announceGroup(session, group.id) };
    },

    groupRemoveMember: (session, request) => {
      const me = session.user;
      const group = this.memberGroup(me, request.groupId);
      const user = this.userNamed(request.user);
      if (user.id !== me.id && group.ownerId !== me.id) {
        throw new RequestError(ErrorCode.NOT_GROUP_OWNER, `only the owner of ${group.name} can remove others`);
      }
      if (user.id === group.ownerId) {
        throw new RequestError(ErrorCode.INVALID_TARGET, 'the owner cannot leave the group; delete it instead');
      }
      if (!this.store.isMember(group.id, user.id)) {
        throw new RequestError(ErrorCode.NOT_GROUP_MEMBER, `${user.name} is not in ${group.name}`);
      }
      this.store.removeMember(group.id, user.id);
      this.deliver([user.id], { type: 'groupRemoved', groupId: group.id, name: group.name, reason: 'removed' }, session);
      return { group: this.announceGroup(session, group.id) };
    },

    groupInfo: (session, request) => ({ group: this.groupInfo(this.memberGroup(session.user, request.groupId)) }),
  };

  private refuseMuted(me: UserRow): void {
    const until = this.access.mutedUntil(me.id);
    if (until === null) return;
    throw new RequestError(
      ErrorCode.MUTED,
      until === Infinity
        ? 'the host muted you; you cannot send messages for now'
        : `the host muted you; you can send again in ${Math.ceil((until - Date.now()) / 60_000)} min`,
    );
  }

  /**
   * Group commit: the sends that arrive within one event-loop turn are stored in one
   * transaction at the end of the turn, then pushed and acknowledged, only after that
   * transaction committed. One commit per turn instead of one per message is what lets
   * a busy room keep up.
   */
  private storeWithOthers(send: Omit<WaitingSend, 'resolve' | 'reject'>): Promise<typeof ANSWERED> {
    return new Promise((resolve, reject) => {
      this.waitingSends.push({ ...send, resolve, reject });
      if (this.waitingSends.length === 1) setImmediate(() => this.commitWaitingSends());
    });
  }

  private commitWaitingSends(): void {
    const sends = this.waitingSends.splice(0);
    let results: InsertResult[];
    try {
      results = this.store.insertMessages(sends.map((send) => send.message));
    } catch (error) {
      for (const send of sends) send.reject(error);
      return;
    }
    // Pushes and acknowledgements go out message by message, so every connection still
    // receives messages in id order (clients skip anything at or below the last id seen).
    sends.forEach(({ requestId, message, recipients, session, resolve, reject }, index) => {
      const outcome = results[index]!;
      if ('overDailyQuota' in outcome) {
        const { limit, retryAfterMs } = outcome.overDailyQuota;
        const quota = `${Math.round(limit / 1024)} KiB`;
        reject(
          new RequestError(
            ErrorCode.STORAGE_FULL,
            `you have sent ${quota} of messages today, as much as this host keeps from one user per day; not stored. You can send again when the day ends (00:00 UTC)`,
            retryAfterMs,
          ),
        );
        return;
      }
      const { message: stored, duplicate } = outcome;
      if (!duplicate) {
        const frame: PushFrame = { type: 'message', message: stored };
        if (recipients) this.deliver(recipients, frame, session);
        else this.broadcast(frame, session);
      }
      if (stored.id > session.sentUpTo) session.sentUpTo = stored.id;
      const result: RequestResults['send'] = {
        message: stored,
        duplicate,
        delivered: this.anyoneElseOnline(recipients, message.senderId),
      };
      session.connection.send({ type: 'res', id: requestId, ok: true, result });
      resolve(ANSWERED);
    });
  }

  /** Sends the group's current state to its members (but the requesting session) and returns it. */
  private announceGroup(session: Session, groupId: number): GroupInfo {
    const info = this.groupInfo(this.store.groupById(groupId)!);
    this.log.info('group changed', { user: session.user!.name, group: info.name, members: info.members.length });
    this.deliver(this.store.memberIds(groupId), { type: 'group', group: info }, session);
    return info;
  }
}

function pendingApproval(name: string): RequestError {
  return new RequestError(ErrorCode.PENDING_APPROVAL, `the account ${name} waits for the host's approval; try again later`);
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

/** The request id of a frame, if it carries a usable one (to answer a refusal in kind). */
function requestIdOf(value: unknown): number | null {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}
