/**
 * The chat server: listens, accepts framed TCP (or TLS) connections, hands their
 * frames to the dispatcher, drops silent or stalled ones and closes. Plain Node;
 * the desktop app and the headless host both embed it.
 */
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { compileCostlyPatterns } from '../../src-shared/protocol/objects.js';
import { type AccessMode, LIMITS } from '../../src-shared/protocol/limits.js';
import { Connection } from '../net/connection.js';
import { ConnectionScheduler } from '../net/scheduler.js';
import type { DecodedFrame } from '../net/frame.js';
import { TlsGate, type TlsIdentity } from '../net/tls.js';
import type { AsyncStore } from '../store/types.js';
import { type AccessOptions, RoomAccess, type RoomLimits, addressHost, roomLimits } from './access.js';
import type { Bus } from './bus.js';
import type { Handlers, ServerContext } from './context.js';
import { Dispatcher, sendDueNextTurn } from './dispatch.js';
import { announcedLimits } from './announced.js';
import { Sweeper } from './sweeper.js';
import { accountHandlers } from './handlers/accounts.js';
import { ServerAdmin } from './handlers/admin.js';
import { chatHandlers } from './handlers/chats.js';
import { conversationHandlers } from './handlers/conversation.js';
import { e2eeHandlers } from './handlers/e2ee.js';
import { voiceCallHandlers } from './handlers/voice-calls.js';
import { VoiceCalls } from './voice-calls.js';
import { groupHandlers } from './handlers/groups.js';
import { messageHandlers, mutedRefusal } from './handlers/messages.js';
import { SendCommit } from './outbound/commit.js';
import type { ServerLog } from './log.js';
import { type RateLimits, resolveRateLimits } from './rate-limit.js';
import { PRESENCE_WINDOW_MS } from './presence.js';
import type { ScryptHold } from './password.js';
import { Roster } from './roster.js';
import { KeyedQueue, SerialQueue } from './serial.js';
import { type Session, newSession } from './session.js';
import { type FileOptions, FileTransfers } from './transfer.js';
import { RoomThrottles, type ThrottleOptions } from './throttle.js';
import { CLOCK_SYNC_MS, RoomClock } from './clock.js';
import { ClusterFanOut } from './outbound/cluster-fan-out.js';
import { LoneFanOut } from './outbound/fan-out.js';
import { endHere } from './end-target.js';

export interface ServerOptions {
  /** SQLite: openAsyncStore (store/async-store.ts). */
  store: AsyncStore;
  log: ServerLog;
  /** Who may register; without it the mode saved in the store applies (open if none). */
  access?: AccessOptions;
  /** Failed-login throttling per name and per address. */
  throttle?: ThrottleOptions;
  limits?: Partial<RoomLimits>;
  roomName?: string;
  /**
   * The least time between two presence pushes about one user (presence.ts) or two deviceReady pushes
   * (handlers/e2ee.ts), and the longest a presence push waits for other frames to the same peer
   * (Connection's lazyFlushMs); tests change it.
   */
  presenceWindowMs?: number;
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
  /** Test-only: holds each connection's password check before scrypt runs (password.ts). */
  holdScrypt?: ScryptHold;
  /** The room's certificate: every connection must use TLS. Null serves plain TCP. */
  tls: TlsIdentity | null;
  /** Per-connection frame and byte rates (rate-limit.ts); Infinity turns one off. */
  rateLimits?: Partial<RateLimits>;
  /** A frame begun but not finished this long after its first byte closes the connection. */
  frameTimeoutMs?: number;
  /** How long after sending its sender may edit a message (docs/PROTOCOL.md §17); no limit without it. */
  editWindowMs?: number;
  /** The store's daily quota per user, announced in hello (the store enforces it); none when not given. */
  maxUserBytesPerDay?: number;
  /** Files (docs/PROTOCOL.md §18): where the host keeps them and its limits; without, the host takes none. */
  files?: FileOptions;
  /** The other nodes of a cluster on one database (docs/CLUSTER.md, "The bus"); closed with the server. None by default. */
  bus?: Bus;
  /** This node's own clock (ms epoch), which the room's clock corrects (clock.ts); tests give a node one that is off. */
  localClock?: () => number;
}

/** Why a draining node closes a connection (PROTOCOL §9.2): the client moves to another address of the room. */
const DRAINING = { code: ErrorCode.SERVER_DRAINING, message: 'this node of the room is stopping: connect to another of its addresses' };

export class ChatServer {
  readonly roomName: string;
  /** The host's controls: kick, ban, mute, approvals, password resets. */
  readonly admin: ServerAdmin;
  private readonly store: AsyncStore;
  private readonly access: RoomAccess;
  private readonly roster: Roster;
  private readonly calls: VoiceCalls;
  private readonly dispatcher: Dispatcher;
  private readonly log: ServerLog;
  private readonly heartbeatTimeoutMs: number;
  private readonly authTimeoutMs: number;
  private readonly maxFrameBytes: number;
  private readonly maxQueuedBytes: number;
  private readonly rateLimits: RateLimits;
  private readonly frameTimeoutMs: number;
  private readonly presenceWindowMs: number;
  /** When this server's connections write and handle frames: together, and apart from any other server in the process. */
  private readonly scheduler: ConnectionScheduler;
  private readonly sessions = new Set<Session>();
  /** The room's clock: stored times count from the database's (clock.ts). */
  readonly clock: RoomClock;
  private readonly clockSynced: Promise<void>;
  private readonly clockSync: NodeJS.Timeout;
  private readonly files: FileTransfers | null;
  private server: Server | null = null;
  private readonly tlsGate: TlsGate | null;
  private sweeper: Sweeper | null = null;
  /** Set by drain: new connections are sent elsewhere at once. */
  private draining = false;

  constructor(options: ServerOptions) {
    this.store = options.store;
    this.log = options.log;
    this.roomName = options.roomName ?? 'Room';
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 20_000;
    this.authTimeoutMs = options.authTimeoutMs ?? 30_000;
    this.maxFrameBytes = options.maxFrameBytes ?? LIMITS.maxFrameBytes;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.tlsGate = options.tls
      ? new TlsGate({
          identity: options.tls,
          handshakeTimeoutMs: this.authTimeoutMs,
          onSecure: (socket) => this.accept(socket),
          onRejected: (address, reason) => this.log.warn('connection refused', { address, reason }),
          onBusy: (refused) => this.log.warn('connections reset before TLS: too many handshakes waiting', { refused }),
        })
      : null;
    this.rateLimits = resolveRateLimits(options.rateLimits);
    this.frameTimeoutMs = options.frameTimeoutMs ?? 30_000;
    this.clock = new RoomClock(this.log, options.localClock);
    const syncClock = (): Promise<void> => this.clock.sync(() => this.store.databaseTime());
    this.clockSynced = syncClock();
    this.clockSync = setInterval(() => void syncClock(), CLOCK_SYNC_MS).unref();
    this.access = new RoomAccess(this.store, this.clock, options.access, options.passwordCost);
    this.presenceWindowMs = options.presenceWindowMs ?? PRESENCE_WINDOW_MS;
    this.scheduler = new ConnectionScheduler({ lazyFlushMs: this.presenceWindowMs, sharedTurn: true });
    const accounts = new KeyedQueue<number>();
    const publish = new SerialQueue();
    this.files = options.files ? new FileTransfers(this.store, this.log, this.clock, options.files) : null;
    const ends = endHere(this.sessions, this.files);
    const bus = options.bus;
    const limits = roomLimits(options.limits);
    const throttles = new RoomThrottles(options.throttle, limits, (event) => this.roster.fanOut.shareThrottle(event));
    this.roster = new Roster(this.store, this.log, {
      clock: this.clock,
      presenceWindowMs: this.presenceWindowMs,
      accounts,
      // The one place the topology is chosen: pushes go out at once on a lone host, in event order over the bus in a cluster.
      fanOut: bus
        ? (here) =>
            new ClusterFanOut(
              { bus, store: this.store, log: this.log, publish, clock: this.clock, endHere: ends,
                heardMute: (userId, until) => this.access.heardMute(userId, until),
                heardThrottle: (event) => throttles.heard(event),
                heardCall: (message) => this.calls.hear(message),
                nodeGone: (nodeId) => this.calls.nodeGone(nodeId),
              },
              here,
            )
        : (here) => new LoneFanOut(here, ends),
    });
    this.calls = new VoiceCalls({
      store: this.store,
      fanOut: this.roster.fanOut,
      clock: this.clock,
      log: this.log,
      limits,
      publish,
      nodeId: bus?.nodeId ?? 'here',
    });
    if (bus) this.calls.attach((message) => this.roster.fanOut.shareCall(message));
    this.admin = new ServerAdmin({
      store: this.store,
      clock: this.clock,
      accounts,
      log: this.log,
      access: this.access,
      passwordCost: options.passwordCost,
      sessions: this.sessions,
      fanOut: this.roster.fanOut,
      files: this.files,
    });
    const maxConsecutiveErrors = options.maxConsecutiveErrors ?? 10;
    const context: ServerContext = {
      store: this.store,
      clock: this.clock,
      publish,
      commit: new SendCommit({
        store: this.store,
        roster: this.roster,
        fanOut: this.roster.fanOut,
        publish,
        scheduler: this.scheduler,
        refusedNow: (userId) => mutedRefusal(context, userId),
        sendDueNextTurn,
      }),
      accounts,
      relations: new KeyedQueue<string>(),
      log: this.log,
      access: this.access,
      limits,
      roster: this.roster,
      fanOut: this.roster.fanOut,
      throttles,
      sessions: this.sessions,
      passwordCost: options.passwordCost,
      holdScrypt: options.holdScrypt,
      isHostAccount: (name) => this.admin.isProtected(name),
      roomName: this.roomName,
      announced: announcedLimits({
        limits,
        rateLimits: this.rateLimits,
        loginThrottle: throttles.login,
        maxFrameBytes: this.maxFrameBytes,
        maxQueuedBytes: this.maxQueuedBytes,
        maxConsecutiveErrors,
        heartbeatTimeoutMs: this.heartbeatTimeoutMs,
        authTimeoutMs: this.authTimeoutMs,
        frameTimeoutMs: this.frameTimeoutMs,
        maxUserBytesPerDay: options.maxUserBytesPerDay ?? null,
        editWindowMs: options.editWindowMs ?? null,
        files: this.files?.limits,
      }),
      editWindowMs: options.editWindowMs ?? null,
      presenceWindowMs: this.presenceWindowMs,
      files: this.files,
      calls: this.calls,
    };
    const handlers = {
      ...accountHandlers(context),
      ...messageHandlers(context),
      ...chatHandlers(context),
      ...groupHandlers(context),
      ...conversationHandlers(context),
      ...e2eeHandlers(context),
      ...voiceCallHandlers(context),
    } satisfies Handlers;
    this.dispatcher = new Dispatcher({
      log: this.log,
      handlers,
      maxFrameBytes: this.maxFrameBytes,
      maxConsecutiveErrors,
    });
  }

  /** Resolves once the access mode given at construction is in force (and saved), the stored mutes are read and the clock synced. */
  get ready(): Promise<void> {
    return Promise.all([this.access.ready, this.clockSynced]).then(() => undefined);
  }

  /** Who may create an account now (as `ready` put it in force). */
  get accessMode(): AccessMode {
    return this.access.mode;
  }

  /** Starts listening; resolves with the bound address. Port 0 picks a free port. */
  listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    compileCostlyPatterns();
    const server = createServer((socket) => (this.tlsGate ? this.tlsGate.admit(socket) : this.accept(socket)));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error) => {
        this.files?.close();
        reject(error);
      });
      server.listen({ port, host }, () => {
        server.removeAllListeners('error');
        server.on('error', (error) => this.log.error('server error', { error: String(error) }));
        const address = server.address() as AddressInfo;
        this.log.info('listening', { address: address.address, port: address.port, tls: this.tlsGate !== null });
        const { heartbeatTimeoutMs, authTimeoutMs, frameTimeoutMs } = this;
        this.sweeper = new Sweeper(this.sessions, this.log, { heartbeatTimeoutMs, authTimeoutMs, frameTimeoutMs });
        resolve(address);
      });
    });
  }

  /** Tells every client the server is going away, closes them and stops listening. */
  async close(): Promise<void> {
    this.sweeper?.stop();
    clearInterval(this.clockSync);
    this.admin.close();
    this.calls.close();
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
    this.files?.close();
    await Promise.all([...closed, server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined]);
    await this.roster.close();
    this.log.info('stopped');
  }

  /**
   * Sends every client to another address of the room (docs/PROTOCOL.md §19): stops listening, takes
   * no new request, and closes each connection with `bye SERVER_DRAINING` once the requests it has in
   * flight are answered (a send once its commit is stored). Resolves when every connection is closed;
   * close() still ends the rest and the server.
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.server?.close();
    this.log.info('draining', { connections: this.sessions.size });
    await Promise.all([...this.sessions].map((session) => this.sendElsewhere(session)));
    this.log.info('drained');
  }

  private sendElsewhere(session: Session): Promise<void> {
    const closed = new Promise<void>((resolve) => session.connection.onClose(() => resolve()));
    // No frame is handled after this: what a client sends now it sends again to the next node.
    session.draining = true;
    const close = (): void => session.connection.close(DRAINING);
    if (session.answering) session.answering.then(close, close);
    else close();
    return closed;
  }

  /** Counts for the admin port's metrics: open connections, logins and message pushes written here so far. */
  get counts(): { connections: number; logins: number; deliveries: number } {
    return { connections: this.sessions.size, logins: this.roster.logins, deliveries: this.roster.deliveries };
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
    const connection = new Connection(socket, {
      maxFrameBytes: this.maxFrameBytes,
      maxQueuedBytes: this.maxQueuedBytes,
      scheduler: this.scheduler,
    });
    const session = newSession(connection, this.rateLimits);
    this.sessions.add(session);
    this.log.info('connection', { address: connection.remoteAddress });
    connection.onClose((reason) => this.onClosed(session, reason));
    if (this.draining) {
      session.connection.close(DRAINING);
      return;
    }
    // After onClose, so a refused connection leaves the session list like any other.
    let admitted: Promise<boolean> | null = this.admitAddress(session);
    void admitted.then(() => (admitted = null));
    const frame = (decoded: DecodedFrame): void | Promise<void> => {
      // A transfer connection's first frame (docs/PROTOCOL.md §18): the socket is the transfer's from here.
      if (this.files && !session.helloDone && decoded.kind === 'frame' && FileTransfers.opens(decoded.value)) {
        this.sessions.delete(session);
        this.files.take(connection, decoded.value);
        return;
      }
      return this.dispatcher.frame(session, decoded);
    };
    // Frames before the ban check has answered wait for it (a promise holds the connection's next frame back).
    connection.onFrame((decoded) => (admitted ? admitted.then((open) => (open ? frame(decoded) : undefined)) : frame(decoded)));
  }

  /** Closes a new connection from a banned address; resolves with whether it stays open. */
  private async admitAddress(session: Session): Promise<boolean> {
    const address = session.connection.remoteAddress;
    let banned: boolean;
    try {
      banned = await this.store.isBanned('address', addressHost(address));
    } catch (error) {
      this.log.error('ban check failed', { address, error: String(error) });
      session.connection.close({ code: ErrorCode.INTERNAL, message: 'the server hit an internal error; try again' });
      return false;
    }
    if (!banned) return session.connection.isOpen;
    this.log.warn('connection refused', { address, reason: 'banned' });
    session.connection.close({ code: ErrorCode.BANNED, message: 'the host banned your address from this room' });
    return false;
  }

  private onClosed(session: Session, reason: WireError | null): void {
    this.sessions.delete(session);
    this.log.info('disconnect', {
      address: session.connection.remoteAddress,
      ...(session.user ? { user: session.user.name } : {}),
      reason: reason ? reason.code : 'closed by client',
    });
    this.calls.closed(session);
    void this.roster.leave(session, reason);
  }
}
