/**
 * The chat server: accepts framed TCP connections, authenticates users and
 * carries out every request against the store. Plain Node; the desktop app and
 * the headless host both embed it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import {
  type ChatMessage,
  type Contact,
  type ConversationKey,
  ErrorCode,
  type GroupInfo,
  LIMITS,
  PROTOCOL_MAJOR,
  PROTOCOL_VERSION,
  type PushFrame,
  ROOM,
  type Request,
  type RequestResults,
  type RequestType,
  type WireError,
  dmConversation,
  groupConversation,
  parseRequest,
} from '../../src-shared/protocol.js';
import { checkGroupName, checkUserName, nameKey, nameSkeleton } from '../../src-shared/text.js';
import { Connection } from '../net/connection.js';
import { encodeFrame } from '../net/frame.js';
import type { GroupRow, InsertResult, NewMessage, RelationRow, SessionStore, Store, UserRow } from '../store/types.js';
import { StoreConflictError } from '../store/types.js';
import type { ServerLog } from './log.js';
import { hashPassword, verifyPassword } from './password.js';

export const SERVER_NAME = 'lanchat/0.1.0';

export interface ServerOptions {
  store: Store & SessionStore;
  log: ServerLog;
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
}

/** A refusal with a stable code, sent back as the request's error. */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Session {
  connection: Connection;
  helloDone: boolean;
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
  private readonly store: Store & SessionStore;
  private readonly log: ServerLog;
  private readonly heartbeatTimeoutMs: number;
  private readonly authTimeoutMs: number;
  private readonly maxFrameBytes: number;
  private readonly maxQueuedBytes: number;
  private readonly maxConsecutiveErrors: number;
  private readonly passwordCost: number | undefined;
  private readonly sessions = new Set<Session>();
  /** Logged-in sessions by user id. */
  private readonly online = new Map<number, Set<Session>>();
  private server: Server | null = null;
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
  }

  /** Starts listening; resolves with the bound address. Port 0 picks a free port. */
  listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        server.on('error', (error) => this.log.error('server error', { error: String(error) }));
        const address = server.address() as AddressInfo;
        this.log.info('listening', { address: address.address, port: address.port });
        const interval = Math.max(50, Math.min(1000, this.heartbeatTimeoutMs / 4));
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
    await Promise.all([...closed, server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined]);
    this.log.info('stopped');
  }

  /** Names of users with at least one logged-in connection. */
  onlineUsers(): { name: string; connections: number; addresses: string[] }[] {
    return [...this.online.values()].map((sessions) => {
      const list = [...sessions];
      return {
        name: list[0]!.user!.name,
        connections: list.length,
        addresses: list.map((s) => s.connection.remoteAddress),
      };
    });
  }

  /** Takes over a socket accepted elsewhere (used by tests and by a TLS front end later). */
  accept(socket: Socket): void {
    const connection = new Connection(socket, { maxFrameBytes: this.maxFrameBytes, maxQueuedBytes: this.maxQueuedBytes });
    const session: Session = {
      connection,
      helloDone: false,
      user: null,
      tokenHash: null,
      consecutiveErrors: 0,
      openedAt: Date.now(),
      sentUpTo: 0,
      syncedTo: 0,
      closeAfterReply: null,
    };
    this.sessions.add(session);
    this.log.info('connection', { address: connection.remoteAddress });
    connection.onClose((reason) => this.onClosed(session, reason));
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
        session.connection.send({ type: 'res', id: request.id, ok: false, error: { code: error.code, message: error.message } });
        return;
      }
      this.log.error('internal error', { type: request.type, error: error instanceof Error ? error.stack : String(error) });
      session.connection.send({
        type: 'res',
        id: request.id,
        ok: false,
        error: { code: ErrorCode.INTERNAL, message: describeInternalError(error) },
      });
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
    const existing = this.store.userByKey(nameKey(checked.name));
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
        if (!(await verifyPassword(password, existing.passwordHash))) {
          this.log.warn('failed login', { user: existing.name, address, reason: 'wrong password' });
          throw new RequestError(ErrorCode.WRONG_PASSWORD, `wrong password for ${existing.name}`);
        }
        user = existing;
      } else {
        user = await this.register(checked.name, password, address);
        registered = true;
      }
      token = randomBytes(32).toString('base64url');
      this.store.createSession(sha256(token), user.id, Date.now());
    }
    if (!session.connection.isOpen) throw new RequestError(ErrorCode.INTERNAL, 'connection closed during login');
    session.user = user;
    session.tokenHash = sha256(token);
    this.log.info('login', { user: user.name, address });
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

  private async register(name: string, password: string, address: string): Promise<UserRow> {
    const skeleton = nameSkeleton(name);
    const lookalike = this.store.userBySkeleton(skeleton);
    if (lookalike) {
      this.log.warn('registration refused', { user: name, address, reason: `looks like ${lookalike.name}` });
      throw new RequestError(ErrorCode.NAME_TAKEN, `the name ${name} is too close to the existing user ${lookalike.name}`);
    }
    const passwordHash = await hashPassword(password, this.passwordCost);
    try {
      const user = this.store.createUser({ name, nameKey: nameKey(name), skeleton, passwordHash, createdAt: Date.now() });
      this.log.info('registration', { user: name, address });
      return user;
    } catch (error) {
      if (error instanceof StoreConflictError) throw new RequestError(ErrorCode.NAME_TAKEN, `the name ${name} was just taken`);
      throw error;
    }
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
    this.store.setLastSeen(user.id, now);
    // What sat in the socket of a connection that died may never have arrived:
    // then only what the client itself said it holds counts.
    const clean = reason === null || reason.code === ErrorCode.LOGGED_OUT || reason.code === ErrorCode.SERVER_SHUTDOWN;
    const reached = clean ? session.sentUpTo : session.syncedTo;
    if (reached > this.store.deliveredCursor(user.id)) this.store.setDeliveredCursor(user.id, reached);
    this.broadcast({ type: 'presence', user: user.name, online: false, ts: now });
  }

  /** Drops connections silent past the heartbeat timeout and those that never logged in. */
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

  /** After a user caught up, tells the senders of the direct messages it got that they arrived. */
  private reportCaughtUp(me: UserRow, messages: ChatMessage[]): void {
    const newest = new Map<string, { conv: ConversationKey; upTo: number; from: string }>();
    for (const message of messages) {
      if (message.to === undefined || nameKey(message.from) === me.nameKey) continue;
      newest.set(message.conv, { conv: message.conv, upTo: message.id, from: message.from });
    }
    for (const { conv, upTo, from } of newest.values()) {
      const sender = this.store.userByKey(nameKey(from));
      if (sender) this.deliver([sender.id], { type: 'delivered', conv, upTo });
    }
  }

  // ------------------------------------------------------------ lookups

  private userNamed(name: string): UserRow {
    const user = this.store.userByKey(nameKey(name.normalize('NFC')));
    if (!user) throw new RequestError(ErrorCode.UNKNOWN_USER, `no user named ${name}`);
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

    search: (session, request) => {
      const person = request.person === undefined ? undefined : this.userNamed(request.person);
      const page = this.store.search(session.user.id, {
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
      const checked = checkGroupName(request.name);
      if (!checked.ok) throw new RequestError(ErrorCode.NAME_INVALID, checked.reason);
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
      const checked = checkGroupName(request.name);
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
    sends.forEach(({ requestId, message, recipients, session, resolve }, index) => {
      const { message: stored, duplicate } = results[index]!;
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

function describeInternalError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_FULL') return 'the host is out of disk space; the request was not stored';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'the host database is busy; try again';
  return 'the server hit an internal error; the request was not carried out';
}
