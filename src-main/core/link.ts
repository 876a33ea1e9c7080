/**
 * The app's one connection to a room: logging in with a password or a saved
 * session, checking the host's certificate against the pins, turning the
 * client's events into AppEvents, and the outbox of messages given to send(),
 * kept in the profile until stored so that a restarted app sends them again.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  type AppError,
  AppErrorCode,
  type AppEvent,
  type ConnectionSecurity,
  type ConnectionStatus,
  type OutboxStatus,
  type Result,
  type SessionView,
  type TrustedHost,
} from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import type { AttachmentRef, ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import type { RequestResults } from '../../src-shared/protocol/requests.js';
import { ChatClient, type ClientOptions, type ConnectionState } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { OutboxItem } from '../client/outbox.js';
import type { TransferLink } from '../client/transfer-link.js';
import { LookalikeRoomError, describeConnectError, describeRequestError, fail, messageOf, ok } from './errors.js';
import { KnownRooms, PinFile, RoomNameFile, UNENCRYPTED, serverKey } from './pins.js';
import { EventCursorFile, OutboxFile, SessionTokenFile, type TokenSealer } from './profile-files.js';

const CLIENT_NAME = 'lanchat-desktop/0.1.0';
/** The event cursor is saved at most this often while events come (and when the connection closes). */
const EVENT_CURSOR_SAVE_DELAY_MS = 1000;

/** A room's address; a room on several nodes also has the others' (tried in turn), pinned under the first. */
export interface Server {
  host: string;
  port: number;
  alternates?: { host: string; port: number }[];
}

/** How to check the host: our own room's known certificate, or the pins with what the user just allowed. */
export type Trust =
  | { own: true; fingerprint: string | null }
  | {
      own: false;
      acceptFingerprint?: string | undefined;
      allowUnencrypted?: boolean | undefined;
      /** What the room announced on the network: expected only where nothing is pinned. */
      announcedFingerprint?: string | undefined;
      /** The name the room announced: compared with the rooms entered before, as hello's is. */
      announcedRoomName?: string | undefined;
      /** The user confirmed that a look-alike of a room entered before is another room (LOOKALIKE_ROOM). */
      differentRoom?: boolean | undefined;
    };

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

const FORWARDED_PUSHES = ['delivered', 'presence', 'chatRequest', 'chatAnswer', 'chatLeft', 'group', 'groupRemoved', 'typing', 'groupInvitations'] as const;

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
  private readonly pins: PinFile;
  private readonly roomNames: RoomNameFile;
  /** The rooms entered before, by identity: what a look-alike is checked against, and what the room list marks. */
  readonly knownRooms: KnownRooms;
  /** Messages given to send() that are not yet stored or refused, per account, for the next start and outbox events. */
  private readonly unsentFile: OutboxFile;
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
    this.unsentFile = new OutboxFile(profileDir);
    this.pins = new PinFile(join(profileDir, 'pins.json'));
    this.roomNames = new RoomNameFile(join(profileDir, 'rooms.json'));
    this.knownRooms = new KnownRooms(this.pins, this.roomNames);
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
    const pinned = trust.own ? undefined : this.pins.get(key);
    const expected = trust.own
      ? (trust.fingerprint ?? undefined)
      : (trust.acceptFingerprint ?? (pinned === UNENCRYPTED ? undefined : pinned) ?? trust.announcedFingerprint);
    // An address not entered before: the room must not pass for one entered before (LOOKALIKE_ROOM).
    const checkRoom = trust.own || pinned !== undefined ? undefined : this.lookalikeCheck(trust);
    let tls = !trust.own || trust.fingerprint !== null;
    let error = await this.open(server, name, credentials, { tls, fingerprint: expected, checkRoom });
    const plainAllowed = !trust.own && (trust.allowUnencrypted === true || pinned === UNENCRYPTED);
    if (error instanceof ClientError && error.code === 'TLS_UNAVAILABLE' && plainAllowed) {
      tls = false;
      error = await this.open(server, name, credentials, { tls, checkRoom });
    }
    const current = this.current;
    if (error === null && current) {
      const fingerprint = current.client.hostFingerprint;
      // A room entered before at another address (a cluster's node, a new DHCP lease) is no first use;
      // nor is trusting a changed fingerprint, an explicit check already.
      const firstUse = !trust.own && pinned !== fingerprint && trust.acceptFingerprint !== fingerprint && !(fingerprint !== null && this.knownRooms.isKnown(fingerprint));
      current.security = fingerprint !== null ? { encrypted: true, fingerprint, firstUse } : { encrypted: false };
      if (!trust.own) this.savePin(key, fingerprint ?? UNENCRYPTED);
      const roomName = current.client.session?.hello.room;
      if (!trust.own && fingerprint !== null && roomName !== undefined) this.saveRoomName(fingerprint, roomName);
      return ok(undefined);
    }
    if (error instanceof ClientError && error.code === ErrorCode.BAD_TOKEN) this.forgetSession(key);
    this.lastError = describeConnectError(error, key, pinned, trust.own ? undefined : trust.announcedFingerprint);
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

  /** The hosts this profile trusts, by server key. */
  trustedHosts(): TrustedHost[] {
    return this.pins
      .entries()
      .map(([server, pin]) => {
        const fingerprint = pin === UNENCRYPTED ? null : pin;
        return { server, fingerprint, roomName: fingerprint === null ? null : (this.roomNames.get(fingerprint) ?? null) };
      })
      .sort((a, b) => a.server.localeCompare(b.server));
  }

  /**
   * Forgets a host's pin, and its room's name once no address is pinned to that room; the connection
   * open to it, if any, stays as it is.
   */
  forgetHost(server: string): Result<void> {
    const pin = this.pins.get(server);
    if (pin === undefined || !this.pins.delete(server)) return fail(AppErrorCode.INVALID_ARGUMENT, `${server} is not a host this app trusts`);
    if (!this.pins.entries().some(([, other]) => other === pin)) this.roomNames.delete(pin);
    return ok(undefined);
  }

  /**
   * Refuses a room that calls itself (in hello, or in its announcement) like a room entered before and
   * presents a certificate of no room entered before; unless the user confirmed it is another room,
   * for the fingerprint they accepted (without TLS, for this join).
   */
  private lookalikeCheck(trust: Trust & { own: false }): (room: { name: string; fingerprint: string | null }) => Error | null {
    return ({ name: roomName, fingerprint }) => {
      const confirmed = trust.differentRoom === true && (fingerprint === null || fingerprint === trust.acceptFingerprint);
      const like = this.knownRooms.passesFor([roomName, trust.announcedRoomName], fingerprint, confirmed);
      return like ? new LookalikeRoomError(like.claimed, like.fingerprint, fingerprint) : null;
    };
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
    const { client, name } = current;
    const key = serverKey(current.server);
    const clientMsgId = randomUUID();
    const item: OutboxItem = { clientMsgId, to: target, text, ...(replyTo !== undefined ? { replyTo } : {}), ...(attachments ? { attachments } : {}) };
    try {
      this.unsentFile.add(key, name, item);
    } catch (error) {
      console.error(`lanchat: could not keep a message to send in the profile (it goes while the app runs): ${messageOf(error)}`);
    }
    // Progress arrives as events, a refusal by the host as 'sendFailed'. The promise matters only for a
    // message the client refused itself; one dropped because the client closed stays for the next connect.
    client.send(target, text, clientMsgId, replyTo, attachments).catch((error: unknown) => {
      if (error instanceof ClientError && error.code === 'CLOSED') return;
      if (this.forgetUnsent(key, name, clientMsgId)) this.emitOutbox(item, 'failed', Date.now(), { error: describeRequestError(error) });
    });
    return ok({ clientMsgId });
  }

  /** The messages of the room's account not stored yet, connected or not (the windows show them as sending). */
  unsent(): { clientMsgId: string; target: Target; text: string; replyTo?: number }[] {
    const server = this.current?.server ?? this.lastServer;
    if (!server) return [];
    return this.unsentFile.itemsFor(serverKey(server), this.current?.name ?? this.lastName).map(({ clientMsgId, to, text, replyTo }) => ({
      clientMsgId,
      target: to,
      text,
      ...(replyTo !== undefined ? { replyTo } : {}),
    }));
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
    const unsent = this.unsentFile.itemsFor(key, name);
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
      this.lastError = describeConnectError(error, key, this.pins.get(key));
      this.changed();
    });
    client.on('message', (message) => {
      this.emit({ type: 'message', message });
      this.noteEventCursor(client, key);
    });
    client.on('queued', (item) => this.emitOutbox(item, 'queued', Date.now()));
    client.on('sendRetrying', ({ clientMsgId, error }) => {
      const item = this.unsentFile.find(key, name, clientMsgId);
      if (item) this.emitOutbox(item, 'queued', Date.now(), { error: describeRequestError(error) });
    });
    client.on('sent', ({ clientMsgId, message, delivered }) => {
      const item = this.unsentFile.find(key, name, clientMsgId);
      if (!item || !this.forgetUnsent(key, name, clientMsgId)) return;
      this.emitOutbox(item, 'sent', message.ts, { message });
      if (delivered) this.emitOutbox(item, 'delivered', message.ts, { message });
    });
    client.on('sendFailed', ({ clientMsgId, error }) => {
      const item = this.unsentFile.find(key, name, clientMsgId);
      if (!item || !this.forgetUnsent(key, name, clientMsgId)) return;
      this.emitOutbox(item, 'failed', Date.now(), { error: describeRequestError(error) });
    });
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

  private emitOutbox({ clientMsgId, to, text, replyTo }: OutboxItem, status: OutboxStatus, ts: number, more: { error?: AppError; message?: ChatMessage } = {}): void {
    this.emit({ type: 'outbox', clientMsgId, status, target: to, text, ...(replyTo !== undefined ? { replyTo } : {}), ts, ...more });
  }

  /** Stored or refused for good: not sent again. Answers whether it was still held (reported once). */
  private forgetUnsent(key: string, name: string, clientMsgId: string): boolean {
    try {
      return this.unsentFile.remove(key, name, clientMsgId);
    } catch (error) {
      // Gone from memory all the same; sent again at the next start, a stored one is answered as the duplicate it is.
      console.error(`lanchat: could not update the messages to send in the profile: ${messageOf(error)}`);
      return true;
    }
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

  private savePin(key: string, pin: string): void {
    try {
      this.pins.set(key, pin);
    } catch (error) {
      console.error(`lanchat: could not save the host's fingerprint: ${messageOf(error)}`);
    }
  }

  private saveRoomName(fingerprint: string, roomName: string): void {
    try {
      this.roomNames.set(fingerprint, roomName);
    } catch (error) {
      console.error(`lanchat: could not save the room's name with its fingerprint: ${messageOf(error)}`);
    }
  }

  private saveSessionToken(key: string, name: string, token: string): void {
    try {
      this.sessionTokens.save(key, name, token);
    } catch (error) {
      console.error(`lanchat: could not save the session: ${messageOf(error)}`);
    }
  }
}
