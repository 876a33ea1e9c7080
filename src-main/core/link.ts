/**
 * The app's one connection to a room: logging in with a password or a saved
 * session, checking the host's certificate as host-trust.ts decides, turning the
 * client's events into AppEvents, and handing it the outbox of messages given to
 * send(), kept in the profile until stored (unsent.ts) so that a restarted app sends them again.
 */
import { AppErrorCode, type AppError, type AppEvent, type ConnectionSecurity, type ForwardedPushType, type ConnectionStatus, type Result, type SessionView, type UnsentMessage } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import type { AttachmentRef, Target } from '../../src-shared/protocol/objects.js';
import type { RequestResults } from '../../src-shared/protocol/requests.js';
import { ChatClient, type ConnectionState } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { ClientOptions } from '../client/options.js';
import type { TransferLink } from '../client/transfer-link.js';
import { describeConnectError, describeRequestError, fail, messageOf, NOT_UNSENT, ok } from './errors.js';
import { HostTrust, type Trust } from './host-trust.js';
import { serverKey } from './pins.js';
import { EventCursorFile, SessionTokenFile, type TokenSealer } from './profile-files.js';
import { UnsentMessages } from './unsent.js';

const CLIENT_NAME = 'lanchat-desktop/0.1.0';
/** The event cursor is saved at most this often while events come (and when the connection closes). */
const EVENT_CURSOR_SAVE_DELAY_MS = 1000;

/** A room's address; a room on several nodes also has the others' (tried in turn), pinned under the first. */
export interface Server {
  host: string;
  port: number;
  alternates?: { host: string; port: number }[];
}

interface Current {
  client: ChatClient;
  server: Server;
  /** The account as given to connect(). */
  name: string;
  /** Known once connected. */
  security: ConnectionSecurity | null;
  /** What the host's last `mute` push said; the host says it again after each login while it lasts. */
  muted: { until: number | null } | null;
}

/**
 * The pushes the windows get as the client parsed them: every forwarded push of AppEvent but message and
 * event, which follow() passes on itself to note the event cursor, and callSignal, which the calls core
 * passes on once verified (voice-calls.ts). A record over that union, so a push
 * added to AppEvent does not compile until it is listed here (a list let it compile and never arrive).
 */
const FORWARDED_AS_IS = {
  delivered: true,
  presence: true,
  chatRequest: true,
  chatAnswer: true,
  chatLeft: true,
  group: true,
  groupRemoved: true,
  typing: true,
  groupInvitations: true,
  call: true,
} as const satisfies Record<Exclude<ForwardedPushType, 'message' | 'event' | 'callSignal'>, true>;
const FORWARDED_PUSHES = Object.keys(FORWARDED_AS_IS) as (keyof typeof FORWARDED_AS_IS)[];

const STATUS_OF_CLIENT: Record<ConnectionState, ConnectionStatus> = {
  idle: 'connecting',
  connecting: 'connecting',
  online: 'online',
  reconnecting: 'reconnecting',
  closed: 'offline',
};

export class Link {
  private current: Current | null = null;
  private lastError: AppError | null = null;
  /**
   * The server and account of the latest connect(), kept after its connection ends: whose session
   * signOut forgets, and whose unsent messages the windows are shown while it is not connected.
   */
  private lastServer: Server | null = null;
  private lastName = '';
  private readonly sessionTokens: SessionTokenFile;
  private readonly eventCursors: EventCursorFile;
  /** A save of the event cursor waiting for the events of a burst to pass. */
  private cursorSave: { timer: NodeJS.Timeout; save: () => void } | null = null;
  /** The pins and the rooms entered before. */
  readonly trust: HostTrust;
  /** Messages given to send() that are not yet stored or refused, per account, for the next start and outbox events. */
  private readonly outbox: UnsentMessages;
  /** What else follows each client this link opens (core/voice-calls.ts). */
  readonly clientFollowers = new Set<(client: ChatClient) => void>();
  /** When typing was last sent, per conversation. */
  private readonly typingSentAt = new Map<ConversationKey, number>();

  constructor(
    profileDir: string,
    private readonly emit: (event: AppEvent) => void,
    /** Called whenever the session view may have changed. */
    private readonly changed: () => void,
    tokenSealer?: TokenSealer,
  ) {
    this.sessionTokens = new SessionTokenFile(profileDir, tokenSealer);
    this.eventCursors = new EventCursorFile(profileDir);
    this.outbox = new UnsentMessages(profileDir, emit);
    this.trust = new HostTrust(profileDir);
  }

  /** The server this app is connected (or reconnecting) to, if any. */
  get server(): Server | null {
    return this.current?.server ?? null;
  }

  view(): Omit<SessionView, 'hosting'> {
    const current = this.current;
    const session = current?.client.session ?? null;
    return {
      status: current ? STATUS_OF_CLIENT[current.client.state] : 'offline',
      me: current ? (session?.login.name ?? null) : null,
      roomName: current ? (session?.hello.room ?? null) : null,
      server: current ? { ...current.server } : null,
      security: current?.security ? { ...current.security } : null,
      error: this.lastError,
      ...(current?.muted ? { muted: { ...current.muted } } : {}),
      ...(session?.hello.features ? { features: [...session.hello.features] } : {}),
      ...(session?.hello.limits ? { limits: { ...session.hello.limits } } : {}),
    };
  }

  /**
   * Logs in with the password, or with the saved session token when the password is empty.
   * Over TLS the host must present the pinned certificate (or, the first time, any, which
   * is then pinned); plain TCP only to a host without TLS that the user agreed to.
   */
  async connect(
    server: Server,
    name: string,
    password: string,
    trust: Trust,
    { passphrase, create }: { passphrase?: string | undefined; create?: boolean | undefined } = {},
  ): Promise<Result<void>> {
    const key = serverKey(server);
    this.lastServer = server;
    this.lastName = name;
    const token = password === '' ? this.sessionTokens.tokenFor(key, name) : undefined;
    if (password === '' && token === undefined) {
      return fail(AppErrorCode.NO_SAVED_SESSION, `Enter the password for ${name}: there is no saved session for it on ${key}`);
    }
    const credentials = {
      ...(token !== undefined ? { token } : { password }),
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(create !== undefined ? { create } : {}),
    };
    const check = this.trust.check(key, trust);
    let error = await this.open(server, name, credentials, { tls: check.tls, fingerprint: check.fingerprint, checkRoom: check.checkRoom });
    if (error instanceof ClientError && error.code === 'TLS_UNAVAILABLE' && check.plainAllowed) {
      error = await this.open(server, name, credentials, { tls: false, checkRoom: check.checkRoom });
    }
    const current = this.current;
    if (error === null && current) {
      current.security = check.joined(current.client.hostFingerprint, current.client.session?.hello.room);
      return ok(undefined);
    }
    if (error instanceof ClientError && error.code === ErrorCode.BAD_TOKEN) this.forgetSession(key);
    this.lastError = describeConnectError(error, key, check.pinned, trust.own ? undefined : trust.announcedFingerprint);
    this.changed();
    return { ok: false, error: this.lastError };
  }

  /** Leaves the room without logging out: the saved session stays, for an empty-password join or the next start. */
  leave(): Result<void> {
    if (!this.current) return fail(AppErrorCode.NOT_CONNECTED, 'Not in a room');
    this.close();
    return ok(undefined);
  }

  /**
   * Logs out on the server and forgets the saved session, so only the password gets back in.
   * Without a connection (the host is down) the server cannot be told, but the session of the
   * server last tried is forgotten all the same.
   */
  async signOut(): Promise<Result<void>> {
    const current = this.current;
    const server = current?.server ?? this.lastServer;
    if (!server) return fail(AppErrorCode.NOT_CONNECTED, 'Not in a room');
    this.lastError = null;
    try {
      await current?.client.logout();
    } catch {
      // Offline: the server keeps the session until it expires, but this app forgets it
      // below, and logout() closes the client either way.
    }
    this.forgetSession(serverKey(server));
    return ok(undefined);
  }

  /** Only the password gets back in, and the next login catches up as a first one. */
  private forgetSession(key: string): void {
    this.cursorSave?.save();
    this.sessionTokens.forget(key);
    this.eventCursors.forget(key);
  }

  /** Closes the connection without logging out, so its saved session stays usable. */
  close(): void {
    const current = this.current;
    if (!current) return;
    this.lastError = null;
    this.cursorSave?.save();
    current.client.close();
  }

  /** The user has compared the first-use fingerprint: the windows stop showing the first-use note. */
  endFirstUse(): Result<void> {
    const security = this.current?.security;
    if (!security) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    if (security.encrypted && security.firstUse) {
      security.firstUse = false;
      this.changed();
    }
    return ok(undefined);
  }

  /** Queues a message, kept in the profile until stored or refused; its progress goes out as outbox events. */
  send(target: Target, text: string, replyTo?: number, attachments?: AttachmentRef[]): Result<{ clientMsgId: string }> {
    const current = this.current;
    if (!current) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    return this.outbox.send(current.client, serverKey(current.server), current.name, target, text, replyTo, attachments);
  }

  /** The messages of the room's account not stored yet, connected or not (the windows show them as sending). */
  unsent(): UnsentMessage[] {
    const server = this.current?.server ?? this.lastServer;
    if (!server) return [];
    return this.outbox.list(serverKey(server), this.current?.name ?? this.lastName);
  }

  /** Gives up on one of the room's account's messages not stored yet (unsent.ts). */
  cancelUnsent(clientMsgId: string): Promise<Result<void>> {
    const server = this.current?.server ?? this.lastServer;
    if (!server) return Promise.resolve(NOT_UNSENT);
    return this.outbox.cancel(this.current?.client ?? null, serverKey(server), this.current?.name ?? this.lastName, clientMsgId);
  }

  /** The server and account of the connection, or of the last one when there is none: whose unsent messages are kept. */
  account(): { server: Server; name: string } | null {
    const server = this.current?.server ?? this.lastServer;
    if (!server) return null;
    return { server, name: this.current?.client.session?.login.name ?? this.current?.name ?? this.lastName };
  }

  /**
   * Tells the conversation's readers that the user is typing, at most once per the server's typing
   * interval per conversation: the rest of a burst of keystrokes sends nothing.
   */
  async typing(conv: ConversationKey): Promise<Result<void>> {
    const client = this.current?.client;
    if (!client) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    const interval = client.session?.hello.limits?.typingIntervalMs ?? LIMITS.typingIntervalMs;
    const now = Date.now();
    if (now - (this.typingSentAt.get(conv) ?? -Infinity) < interval) return ok(undefined);
    this.typingSentAt.set(conv, now);
    return this.request(async (connected) => void (await connected.request('typing', { conv })));
  }

  /** What a file transfer needs to reach the room as this user; null while not logged in. */
  transferLink(): TransferLink | null {
    return this.current?.client.transferLink() ?? null;
  }

  /** The limits the host announced in hello, if it did. */
  helloLimits(): RequestResults['hello']['limits'] {
    return this.current?.client.session?.hello.limits;
  }

  /** Runs a request on the connected client; its failure becomes the user's wording. */
  async request<T>(run: (client: ChatClient) => Promise<T>): Promise<Result<T>> {
    const client = this.current?.client;
    if (!client) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    try {
      return ok(await run(client));
    } catch (error) {
      return { ok: false, error: describeRequestError(error) };
    }
  }

  /** One attempt; resolves with null once logged in (the client is then current), or with why not. */
  private async open(
    server: Server,
    name: string,
    credentials: ({ token: string } | { password: string }) & { passphrase?: string; create?: boolean },
    security: { tls: boolean; fingerprint?: string | undefined; checkRoom?: ClientOptions['checkRoom'] | undefined },
  ): Promise<unknown> {
    const key = serverKey(server);
    const lastEventId = this.eventCursors.cursorFor(key, name);
    const unsent = this.outbox.itemsFor(key, name);
    const client = new ChatClient({
      host: server.host,
      port: server.port,
      ...(server.alternates?.length ? { alternates: server.alternates } : {}),
      name,
      ...(lastEventId !== undefined ? { lastEventId } : {}),
      ...(unsent.length > 0 ? { unsent } : {}),
      clientName: CLIENT_NAME,
      tls: security.tls,
      ...(security.fingerprint !== undefined ? { fingerprint: security.fingerprint } : {}),
      ...(security.checkRoom ? { checkRoom: security.checkRoom } : {}),
      ...credentials,
    });
    this.current = { client, server, name, security: null, muted: null };
    this.lastError = null;
    this.follow(client, key, name);
    for (const follower of this.clientFollowers) follower(client);
    try {
      const session = await client.connect();
      this.saveSessionToken(key, session.login.name, session.login.token);
      return null;
    } catch (error) {
      return error;
    }
  }

  /** Turns the client's events into AppEvents for as long as it lives. */
  private follow(client: ChatClient, key: string, name: string): void {
    const isCurrent = (): boolean => this.current?.client === client;
    client.on('state', (state) => {
      if (!isCurrent()) return;
      if (state === 'closed') {
        this.current = null;
        this.cursorSave?.save();
      }
      this.changed();
    });
    client.on('online', () => {
      if (isCurrent()) this.lastError = null;
      // A catch-up by `sync` moves the cursor to the login's without an event.
      this.noteEventCursor(client, key);
    });
    client.on('offline', (reason) => {
      if (!isCurrent()) return;
      this.current!.muted = null;
      // The host says when it stops on purpose (bye SERVER_SHUTDOWN); anything else is a lost link.
      this.lastError =
        reason?.code === ErrorCode.SERVER_SHUTDOWN
          ? { code: ErrorCode.SERVER_SHUTDOWN, message: `The host at ${key} closed the room; reconnecting in case it comes back…` }
          : { code: AppErrorCode.HOST_GONE, message: `Lost the connection to ${key}; reconnecting…` };
    });
    client.on('fatal', (error) => {
      // The client closed itself (and stopped being current) just before this.
      if (error.code === ErrorCode.BAD_TOKEN) this.forgetSession(key);
      this.lastError = describeConnectError(error, key, this.trust.pinOf(key));
      this.changed();
    });
    client.on('message', (message) => {
      this.emit({ type: 'message', message });
      this.noteEventCursor(client, key);
    });
    this.outbox.follow(client, key, name);
    // Pushes the windows get as they are (the client parsed them, so they hold only known fields).
    for (const type of FORWARDED_PUSHES) client.on(type, (push: AppEvent) => this.emit(push));
    client.on('mute', ({ muted, until }) => {
      if (!isCurrent()) return;
      this.current!.muted = muted ? { until: until ?? null } : null;
      this.changed();
    });
    client.on('event', (event) => {
      this.emit({ type: 'event', event });
      this.noteEventCursor(client, key);
    });
  }

  /** The windows have been given everything up to the client's event cursor: saved soon, once per burst. */
  private noteEventCursor(client: ChatClient, key: string): void {
    if (this.cursorSave) return;
    const save = (): void => {
      clearTimeout(timer);
      this.cursorSave = null;
      const name = client.session?.login.name;
      if (name === undefined) return;
      try {
        this.eventCursors.save(key, name, client.lastEventId);
      } catch (error) {
        console.error(`lanchat: could not save where the conversations were caught up to: ${messageOf(error)}`);
      }
    };
    const timer = setTimeout(save, EVENT_CURSOR_SAVE_DELAY_MS);
    timer.unref();
    this.cursorSave = { timer, save };
  }

  private saveSessionToken(key: string, name: string, token: string): void {
    try {
      this.sessionTokens.save(key, name, token);
    } catch (error) {
      console.error(`lanchat: could not save the session: ${messageOf(error)}`);
    }
  }
}
