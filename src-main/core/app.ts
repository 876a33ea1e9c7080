/**
 * The app core: everything behind the App API that is not a window. It holds at
 * most one chat connection and optionally one hosted room, turns the client's
 * events into AppEvents, keeps the profile's settings and saved sessions, and
 * answers every call with a Result. The shells (Electron, browser) only carry
 * calls and events between their windows and this class.
 */
import { randomUUID } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import {
  type AppApi,
  type AppCallName,
  type AppError,
  AppErrorCode,
  type AppEvent,
  type ConnectionSecurity,
  type ConnectionStatus,
  type HostAdminAction,
  type HostInfo,
  type HostLogEntry,
  type HostRequest,
  type JoinRequest,
  type Result,
  type SessionView,
  type Settings,
} from '../../src-shared/api.js';
import { type CallArgs, parseCall } from '../../src-shared/api-schema.js';
import { type ConversationKey, ErrorCode, type Target } from '../../src-shared/protocol.js';
import { ChatClient, ClientError, type ConnectionState, FingerprintChangedError } from '../client/client.js';
import { ServerError } from '../server/dispatch.js';
import { hostUsers, runHostAdmin } from './host-admin.js';
import { type Host, startHost } from './host.js';
import { PinFile, UNENCRYPTED, serverKey } from './pins.js';
import { StoreOpenError } from '../store/store.js';
import { SessionTokenFile, SettingsFile, ensureProfileDir } from './profile-files.js';

/** Host log entries kept for a host panel that opens late. */
const HOST_LOG_CAPACITY = 500;
const CLIENT_NAME = 'lanchat-desktop/0.1.0';

export interface AppCoreOptions {
  profileDir: string;
  /** How the shell opens a conversation in its own window; without it openChatWindow answers UNSUPPORTED. */
  openChatWindow?: (conv: ConversationKey) => Promise<Result<void>>;
}

type CallResult<K extends AppCallName> = Awaited<ReturnType<AppApi[K]>>;
type CallHandlers = { [K in AppCallName]: (...args: CallArgs<K>) => Promise<CallResult<K>> };

interface Server {
  host: string;
  port: number;
}

interface Link {
  client: ChatClient;
  server: Server;
  /** Known once connected. */
  security: ConnectionSecurity | null;
}

/** How to check the host: our own room's known certificate, or the pins with what the user just allowed. */
type Trust =
  | { own: true; fingerprint: string | null }
  | { own: false; acceptFingerprint?: string | undefined; allowUnencrypted?: boolean | undefined };

interface Hosting {
  host: Host;
  info: HostInfo;
  stopLogFeed: () => void;
}

const STATUS_OF_CLIENT: Record<ConnectionState, ConnectionStatus> = {
  idle: 'connecting',
  connecting: 'connecting',
  online: 'online',
  reconnecting: 'reconnecting',
  closed: 'offline',
};

export class AppCore implements AppApi {
  private readonly profileDir: string;
  private readonly settingsFile: SettingsFile;
  private readonly sessionTokens: SessionTokenFile;
  private readonly pins: PinFile;
  private readonly openChatWindowInShell: AppCoreOptions['openChatWindow'];
  private readonly listeners = new Set<(event: AppEvent) => void>();
  private link: Link | null = null;
  private hosting: Hosting | null = null;
  private lastError: AppError | null = null;
  private readonly hostLogEntries: HostLogEntry[] = [];
  /** Messages given to send() that are not yet stored or refused, for their outbox events. */
  private readonly outgoing = new Map<string, { target: Target; text: string }>();
  /** Calls that open or close the connection or the hosted room run one after another. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  // A single change (say, connect failing) moves the client through several states in one
  // tick; windows get one session event with the final view instead of a flicker of them.
  private readonly announceSession = coalesce(() => this.emit({ type: 'session', session: this.view() }));
  private readonly announceHostUsers = coalesce(() => {
    if (this.hosting) this.emit({ type: 'hostUsers', users: hostUsers(this.hosting.host.server) });
  });
  private readonly announceHostPending = coalesce(() => {
    if (this.hosting) this.emit({ type: 'hostPending', users: this.hosting.host.server.admin.pending() });
  });
  private readonly announceHostBans = coalesce(() => {
    if (this.hosting) this.emit({ type: 'hostBans', bans: this.hosting.host.server.admin.bans() });
  });

  private readonly handlers: CallHandlers = {
    host: (request) => this.serialized(() => this.startHosting(request)),
    stopHosting: () => this.serialized(() => this.stopHostingRoom()),
    join: (request) => this.serialized(() => this.joinRoom(request)),
    leave: () => this.serialized(() => this.leaveRoom()),
    session: async () => ok(this.view()),
    send: async (target, text) => this.queueMessage(target, text),
    unsent: async () =>
      ok((this.link?.client.unsent ?? []).map(({ clientMsgId, to, text }) => ({ clientMsgId, target: to, text }))),
    history: (conv, before, limit) => this.request((client) => client.history(conv, before, limit)),
    search: (query, person, before) =>
      this.request((client) =>
        client.search(query, { ...(person !== undefined ? { person } : {}), ...(before !== undefined ? { before } : {}) }),
      ),
    users: () => this.request(async (client) => (await client.users()).users),
    contacts: () => this.request(async (client) => (await client.contacts()).contacts),
    chatRequest: (user) => this.request(async (client) => (await client.chatRequest(user)).contact),
    chatAnswer: (user, accept) => this.request(async (client) => (await client.chatAnswer(user, accept)).contact),
    chatLeave: (user) => this.request(async (client) => void (await client.chatLeave(user))),
    groups: () => this.request(async (client) => (await client.groups()).groups),
    groupCreate: (name) => this.request(async (client) => (await client.groupCreate(name)).group),
    groupRename: (groupId, name) => this.request(async (client) => (await client.groupRename(groupId, name)).group),
    groupDelete: (groupId) => this.request(async (client) => void (await client.groupDelete(groupId))),
    groupAddMember: (groupId, user) => this.request(async (client) => (await client.groupAddMember(groupId, user)).group),
    groupRemoveMember: (groupId, user) =>
      this.request(async (client) => (await client.groupRemoveMember(groupId, user)).group),
    hostUsers: async () =>
      this.hosting ? ok(hostUsers(this.hosting.host.server)) : fail(AppErrorCode.NOT_HOSTING, 'This app is not hosting a room'),
    hostPending: async () =>
      this.hosting ? ok(this.hosting.host.server.admin.pending()) : fail(AppErrorCode.NOT_HOSTING, 'This app is not hosting a room'),
    hostBans: async () =>
      this.hosting ? ok(this.hosting.host.server.admin.bans()) : fail(AppErrorCode.NOT_HOSTING, 'This app is not hosting a room'),
    hostAdmin: (action) => this.runHostAdmin(action),
    changePassword: (current, password) =>
      this.request(async (client) => void (await client.changePassword(current, password))),
    // Kept after the room stops, so the panel can still show how it ended.
    hostLog: async () => ok([...this.hostLogEntries]),
    settings: async () => ok(this.settingsFile.value),
    updateSettings: async (changes) => ok(this.saveSettings(changes)),
    openChatWindow: async (conv) =>
      this.openChatWindowInShell
        ? this.openChatWindowInShell(conv)
        : fail('UNSUPPORTED', 'This shell cannot open a conversation in a window of its own'),
  };

  constructor(options: AppCoreOptions) {
    this.profileDir = options.profileDir;
    ensureProfileDir(this.profileDir);
    this.settingsFile = new SettingsFile(this.profileDir);
    this.sessionTokens = new SessionTokenFile(this.profileDir);
    this.pins = new PinFile(join(this.profileDir, 'pins.json'));
    this.openChatWindowInShell = options.openChatWindow;
  }

  /**
   * The one entry for calls from windows: validates the call and its arguments,
   * runs it, and answers with a Result whatever happens.
   */
  async dispatch(call: unknown, args: unknown): Promise<Result<unknown>> {
    const parsed = parseCall(call, args);
    if (!parsed.ok) return parsed;
    const handler = this.handlers[parsed.call] as (...args: unknown[]) => Promise<Result<unknown>>;
    try {
      return await handler(...parsed.args);
    } catch (error) {
      return fail('INTERNAL', `${parsed.call} failed: ${messageOf(error)}`);
    }
  }

  /** Closes the connection (the saved session stays valid for the next start) and stops hosting. */
  shutdown(): Promise<void> {
    return this.serialized(async () => {
      this.closeLink();
      await this.stopHost();
    });
  }

  onEvent(listener: (event: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // ------------------------------------------------------------ the App API, each call through dispatch

  host(request: HostRequest) {
    return this.call('host', [request]);
  }
  stopHosting() {
    return this.call('stopHosting', []);
  }
  join(request: JoinRequest) {
    return this.call('join', [request]);
  }
  leave() {
    return this.call('leave', []);
  }
  session() {
    return this.call('session', []);
  }
  send(target: Target, text: string) {
    return this.call('send', [target, text]);
  }
  unsent() {
    return this.call('unsent', []);
  }
  history(conv: ConversationKey, before?: number, limit?: number) {
    return this.call('history', [conv, before, limit]);
  }
  search(query: string, person?: string, before?: number) {
    return this.call('search', [query, person, before]);
  }
  users() {
    return this.call('users', []);
  }
  contacts() {
    return this.call('contacts', []);
  }
  chatRequest(user: string) {
    return this.call('chatRequest', [user]);
  }
  chatAnswer(user: string, accept: boolean) {
    return this.call('chatAnswer', [user, accept]);
  }
  chatLeave(user: string) {
    return this.call('chatLeave', [user]);
  }
  groups() {
    return this.call('groups', []);
  }
  groupCreate(name: string) {
    return this.call('groupCreate', [name]);
  }
  groupRename(groupId: number, name: string) {
    return this.call('groupRename', [groupId, name]);
  }
  groupDelete(groupId: number) {
    return this.call('groupDelete', [groupId]);
  }
  groupAddMember(groupId: number, user: string) {
    return this.call('groupAddMember', [groupId, user]);
  }
  groupRemoveMember(groupId: number, user: string) {
    return this.call('groupRemoveMember', [groupId, user]);
  }
  hostUsers() {
    return this.call('hostUsers', []);
  }
  hostLog() {
    return this.call('hostLog', []);
  }
  hostPending() {
    return this.call('hostPending', []);
  }
  hostBans() {
    return this.call('hostBans', []);
  }
  hostAdmin(action: HostAdminAction) {
    return this.call('hostAdmin', [action]);
  }
  changePassword(current: string, password: string) {
    return this.call('changePassword', [current, password]);
  }
  settings() {
    return this.call('settings', []);
  }
  updateSettings(changes: Partial<Settings>) {
    return this.call('updateSettings', [changes]);
  }
  openChatWindow(conv: ConversationKey) {
    return this.call('openChatWindow', [conv]);
  }

  private call<K extends AppCallName>(call: K, args: unknown[]): Promise<CallResult<K>> {
    // dispatch routes `call` to handlers[call], whose answer is CallResult<K>.
    return this.dispatch(call, args) as Promise<CallResult<K>>;
  }

  // ------------------------------------------------------------ hosting

  private async startHosting(request: HostRequest): Promise<Result<SessionView>> {
    if (this.hosting) {
      return fail(AppErrorCode.ALREADY_CONNECTED, `Already hosting ${this.hosting.info.roomName} on port ${this.hosting.info.port}`);
    }
    if (this.link) return fail(AppErrorCode.ALREADY_CONNECTED, `Leave the room on ${serverKey(this.link.server)} before hosting one`);
    let host: Host;
    try {
      host = await startHost({
        dataDir: join(this.profileDir, 'host'),
        port: request.port,
        bind: '0.0.0.0',
        roomName: request.roomName,
        tls: request.tls ?? true,
        ...(request.access ? { access: { mode: request.access, ...(request.passphrase ? { passphrase: request.passphrase } : {}) } } : {}),
      });
      await host.server.ready;
    } catch (error) {
      return { ok: false, error: describeHostError(error, request.port) };
    }
    this.hostLogEntries.length = 0;
    const stopLogFeed = host.log.subscribe((entry) => this.recordHostLog(entry));
    const port = host.address.port;
    const addresses = lanAddresses(port);
    this.hosting = {
      host,
      stopLogFeed,
      info: { roomName: host.server.roomName, port, addresses, loopbackOnly: addresses.length === 0, fingerprint: host.fingerprint },
    };
    // The host's own account: admin actions cannot hit it and the access mode does not hold it back.
    host.server.admin.protect(request.name);

    const joined = await this.connect({ host: '127.0.0.1', port }, request.name, request.password, {
      own: true,
      fingerprint: host.fingerprint,
    });
    if (!joined.ok) {
      await this.stopHost();
      return joined;
    }
    this.rememberLastUsed({ lastRoomName: request.roomName, lastPort: port, lastName: joined.value.me ?? request.name });
    return joined;
  }

  private async stopHostingRoom(): Promise<Result<void>> {
    if (!this.hosting) return fail(AppErrorCode.NOT_HOSTING, 'This app is not hosting a room');
    // Our own client goes first, on purpose, so it does not report its own host as gone.
    this.closeLink();
    await this.stopHost();
    return ok(undefined);
  }

  private async stopHost(): Promise<void> {
    const hosting = this.hosting;
    if (!hosting) return;
    this.hosting = null;
    this.announceSession();
    await hosting.host.stop();
    hosting.stopLogFeed();
  }

  private recordHostLog(entry: HostLogEntry): void {
    this.hostLogEntries.push(entry);
    if (this.hostLogEntries.length > HOST_LOG_CAPACITY) this.hostLogEntries.shift();
    this.emit({ type: 'hostLog', entry });
    // Every login and disconnect changes who is connected (and on how many devices),
    // not only the first and last one that presence reports. The server updates its
    // list right after logging, hence the deferred read.
    if (entry.event === 'login' || entry.event === 'disconnect' || entry.event === 'admin') this.announceHostUsers();
    if (entry.event === 'registration pending' || entry.event === 'admin') this.announceHostPending();
    if (entry.event === 'admin') this.announceHostBans();
  }

  private async runHostAdmin(action: HostAdminAction): Promise<Result<{ password?: string }>> {
    const hosting = this.hosting;
    if (!hosting) return fail(AppErrorCode.NOT_HOSTING, 'This app is not hosting a room');
    try {
      return ok(await runHostAdmin(hosting.host.server, action));
    } catch (error) {
      if (error instanceof ServerError) return fail(error.code, sentence(error.message));
      throw error;
    }
  }

  // ------------------------------------------------------------ the connection

  private async joinRoom(request: JoinRequest): Promise<Result<SessionView>> {
    if (this.link) return fail(AppErrorCode.ALREADY_CONNECTED, `Already in the room on ${serverKey(this.link.server)}; leave it first`);
    const joined = await this.connect({ host: request.host, port: request.port }, request.name, request.password, {
      own: false,
      acceptFingerprint: request.acceptFingerprint,
      allowUnencrypted: request.allowUnencrypted,
    }, request.passphrase);
    if (joined.ok) this.rememberLastUsed({ lastHost: request.host, lastPort: request.port, lastName: joined.value.me ?? request.name });
    return joined;
  }

  private async leaveRoom(): Promise<Result<void>> {
    const link = this.link;
    if (!link) return fail(AppErrorCode.NOT_CONNECTED, 'Not in a room');
    this.lastError = null;
    try {
      await link.client.logout();
    } catch {
      // Offline: the server keeps the session until it expires, but this app forgets it
      // below, and the client is closed either way.
    }
    this.sessionTokens.forget(serverKey(link.server));
    return ok(undefined);
  }

  /** Closes the connection without logging out, so its saved session stays usable. */
  private closeLink(): void {
    const link = this.link;
    if (!link) return;
    this.lastError = null;
    link.client.close();
  }

  /**
   * Logs in with the password, or with the saved session token when the password is empty.
   * Over TLS the host must present the pinned certificate (or, the first time, any, which
   * is then pinned); plain TCP only to a host without TLS that the user agreed to.
   */
  private async connect(server: Server, name: string, password: string, trust: Trust, passphrase?: string): Promise<Result<SessionView>> {
    const key = serverKey(server);
    const token = password === '' ? this.sessionTokens.tokenFor(key, name) : undefined;
    if (password === '' && token === undefined) {
      return fail(AppErrorCode.INVALID_ARGUMENT, `Enter the password for ${name}: there is no saved session for it on ${key}`);
    }
    const credentials = { ...(token !== undefined ? { token } : { password }), ...(passphrase !== undefined ? { passphrase } : {}) };
    const pinned = trust.own ? undefined : this.pins.get(key);
    const expected = trust.own ? (trust.fingerprint ?? undefined) : (trust.acceptFingerprint ?? (pinned === UNENCRYPTED ? undefined : pinned));
    let tls = !trust.own || trust.fingerprint !== null;
    let error = await this.open(server, name, credentials, { tls, fingerprint: expected });
    const plainAllowed = !trust.own && (trust.allowUnencrypted === true || pinned === UNENCRYPTED);
    if (error instanceof ClientError && error.code === 'TLS_UNAVAILABLE' && plainAllowed) {
      tls = false;
      error = await this.open(server, name, credentials, { tls });
    }
    const link = this.link;
    if (error === null && link) {
      const fingerprint = link.client.hostFingerprint;
      link.security = fingerprint !== null ? { encrypted: true, fingerprint, firstUse: !trust.own && pinned !== fingerprint } : { encrypted: false };
      if (!trust.own) this.savePin(key, fingerprint ?? UNENCRYPTED);
      return ok(this.view());
    }
    if (error instanceof ClientError && error.code === ErrorCode.BAD_TOKEN) this.sessionTokens.forget(key);
    this.lastError = describeConnectError(error, key, pinned);
    this.announceSession();
    return { ok: false, error: this.lastError };
  }

  /** One attempt; resolves with null once logged in (the client is then the link), or with why not. */
  private async open(
    server: Server,
    name: string,
    credentials: ({ token: string } | { password: string }) & { passphrase?: string },
    security: { tls: boolean; fingerprint?: string | undefined },
  ): Promise<unknown> {
    const key = serverKey(server);
    const client = new ChatClient({
      host: server.host,
      port: server.port,
      name,
      clientName: CLIENT_NAME,
      tls: security.tls,
      ...(security.fingerprint !== undefined ? { fingerprint: security.fingerprint } : {}),
      ...credentials,
    });
    this.link = { client, server, security: null };
    this.lastError = null;
    this.follow(client, key);
    try {
      const session = await client.connect();
      this.saveSessionToken(key, session.login.name, session.login.token);
      return null;
    } catch (error) {
      return error;
    }
  }

  /** Turns the client's events into AppEvents for as long as it lives. */
  private follow(client: ChatClient, key: string): void {
    const isCurrent = (): boolean => this.link?.client === client;
    client.on('state', (state) => {
      if (!isCurrent()) return;
      if (state === 'closed') this.link = null;
      this.announceSession();
    });
    client.on('online', () => {
      if (isCurrent()) this.lastError = null;
    });
    client.on('offline', () => {
      if (isCurrent()) this.lastError = { code: AppErrorCode.HOST_GONE, message: `Lost the connection to ${key}; reconnecting…` };
    });
    client.on('fatal', (error) => {
      // The client closed itself (and stopped being the link) just before this.
      if (error.code === ErrorCode.BAD_TOKEN) this.sessionTokens.forget(key);
      this.lastError = describeConnectError(error, key, this.pins.get(key));
      this.announceSession();
    });
    client.on('message', (message) => this.emit({ type: 'message', message }));
    client.on('queued', ({ clientMsgId, to, text }) =>
      this.emit({ type: 'outbox', clientMsgId, status: 'queued', target: to, text, ts: Date.now() }),
    );
    client.on('sent', ({ clientMsgId, message, delivered }) => {
      const item = this.outgoing.get(clientMsgId);
      if (!item) return;
      this.outgoing.delete(clientMsgId);
      const sent = { type: 'outbox', clientMsgId, target: item.target, text: item.text, ts: message.ts, message } as const;
      this.emit({ ...sent, status: 'sent' });
      if (delivered) this.emit({ ...sent, status: 'delivered' });
    });
    client.on('delivered', ({ conv, upTo }) => this.emit({ type: 'delivered', conv, upTo }));
    client.on('presence', ({ user, online, ts }) => this.emit({ type: 'presence', user, online, ts }));
    client.on('chatRequest', ({ from, to, ts }) => this.emit({ type: 'chatRequest', from, to, ts }));
    client.on('chatAnswer', ({ from, to, accepted, ts }) => this.emit({ type: 'chatAnswer', from, to, accepted, ts }));
    client.on('chatLeft', ({ user, with: partner, ts }) => this.emit({ type: 'chatLeft', user, with: partner, ts }));
    client.on('group', ({ group }) => this.emit({ type: 'group', group }));
    client.on('groupRemoved', ({ groupId, name, reason }) => this.emit({ type: 'groupRemoved', groupId, name, reason }));
  }

  private queueMessage(target: Target, text: string): Result<{ clientMsgId: string }> {
    const client = this.link?.client;
    if (!client) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    const clientMsgId = randomUUID();
    this.outgoing.set(clientMsgId, { target, text });
    // Progress arrives as events; the promise only matters when the message is refused
    // for good or dropped because the client closed.
    client.send(target, text, clientMsgId).catch((error: unknown) => {
      this.outgoing.delete(clientMsgId);
      this.emit({ type: 'outbox', clientMsgId, status: 'failed', target, text, ts: Date.now(), error: describeRequestError(error) });
    });
    return ok({ clientMsgId });
  }

  private async request<T>(run: (client: ChatClient) => Promise<T>): Promise<Result<T>> {
    const client = this.link?.client;
    if (!client) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    try {
      return ok(await run(client));
    } catch (error) {
      return { ok: false, error: describeRequestError(error) };
    }
  }

  private view(): SessionView {
    const link = this.link;
    const session = link?.client.session ?? null;
    return {
      status: link ? STATUS_OF_CLIENT[link.client.state] : 'offline',
      me: link ? (session?.login.name ?? null) : null,
      roomName: link ? (session?.hello.room ?? null) : null,
      server: link ? { ...link.server } : null,
      hosting: this.hosting ? { ...this.hosting.info, addresses: [...this.hosting.info.addresses] } : null,
      security: link?.security ? { ...link.security } : null,
      error: this.lastError,
    };
  }

  // ------------------------------------------------------------ profile files and events

  private saveSettings(changes: Partial<Settings>): Settings {
    const settings = this.settingsFile.update(changes);
    this.emit({ type: 'settings', settings });
    return settings;
  }

  /** Prefills the forms next time; failing to write it must not fail a join that worked. */
  private rememberLastUsed(changes: Partial<Settings>): void {
    try {
      this.saveSettings(changes);
    } catch (error) {
      console.error(`lanchat: could not save settings: ${messageOf(error)}`);
    }
  }

  private savePin(key: string, pin: string): void {
    try {
      this.pins.set(key, pin);
    } catch (error) {
      console.error(`lanchat: could not save the host's fingerprint: ${messageOf(error)}`);
    }
  }

  private saveSessionToken(key: string, name: string, token: string): void {
    try {
      this.sessionTokens.save(key, name, token);
    } catch (error) {
      console.error(`lanchat: could not save the session: ${messageOf(error)}`);
    }
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(task);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  private emit(event: AppEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // One broken window transport must not keep the event from the others.
        console.error(`lanchat: an event listener failed: ${messageOf(error)}`);
      }
    }
  }
}

/** Returns a trigger that runs `task` once on the next turn of the event loop, however often it is pulled before then. */
function coalesce(task: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      task();
    });
  };
}

/** "address:port" for every LAN IPv4 address of this machine. */
function lanAddresses(port: number): string[] {
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => address.family === 'IPv4' && !address.internal)
    .map((address) => `${address.address}:${port}`);
}

function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

function fail(code: string, message: string): { ok: false; error: AppError } {
  return { ok: false, error: { code, message } };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describeHostError(error: unknown, port: number): AppError {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return { code: AppErrorCode.PORT_IN_USE, message: `Port ${port} is already in use on this computer; choose another port` };
  }
  if (error instanceof StoreOpenError) {
    return {
      code: AppErrorCode.DATABASE_UNUSABLE,
      message: `Could not start the room server: ${error.message}. The file was left as it is; move it away or restore a backup to host again`,
    };
  }
  return { code: 'INTERNAL', message: `Could not start the room server: ${messageOf(error)}` };
}

function describeConnectError(error: unknown, where: string, pinned: string | undefined): AppError {
  if (error instanceof FingerprintChangedError) {
    return {
      code: AppErrorCode.FINGERPRINT_CHANGED,
      message:
        `The identity of ${where} has changed: its certificate fingerprint is now ${error.actual}, not ${error.expected} as before. ` +
        'Someone on the network may be impersonating the host. Nothing was sent. Trust the new fingerprint only if the host confirms it.',
      fingerprints: { pinned: error.expected, presented: error.actual },
    };
  }
  if (!(error instanceof ClientError)) return { code: 'INTERNAL', message: `Could not join ${where}: ${messageOf(error)}` };
  switch (error.code) {
    case 'TLS_UNAVAILABLE':
      return {
        code: AppErrorCode.NOT_ENCRYPTED,
        message:
          pinned !== undefined && pinned !== UNENCRYPTED
            ? `${where} no longer encrypts its connections, although it did before (fingerprint ${pinned}). ` +
              'Someone on the network may be impersonating the host. Nothing was sent.'
            : `${where} does not encrypt its connections: your password and messages would cross the network readable by others. Nothing was sent.`,
      };
    case ErrorCode.TLS_REQUIRED:
      return { code: error.code, message: `${where} now requires encryption; join again` };
    case 'CONNECT_FAILED':
      return { code: AppErrorCode.CONNECT_FAILED, message: sentence(error.message) };
    case 'TIMEOUT':
      return { code: AppErrorCode.CONNECT_FAILED, message: `${where} did not answer in time; is it a LanChat host?` };
    case 'DISCONNECTED':
      return { code: AppErrorCode.CONNECT_FAILED, message: `${where} closed the connection before the login; is it a LanChat host?` };
    case ErrorCode.PROTOCOL_VERSION:
      return { code: error.code, message: `The host at ${where} runs a LanChat version this app cannot talk to (${error.message})` };
    case ErrorCode.BAD_TOKEN:
      return { code: error.code, message: `The saved session on ${where} has ended; enter the password to log in again` };
    default:
      // WRONG_PASSWORD, NAME_TAKEN, NAME_INVALID…: the server's words name the account and the rule.
      return { code: error.code, message: sentence(error.message) };
  }
}

function describeRequestError(error: unknown): AppError {
  if (!(error instanceof ClientError)) return { code: 'INTERNAL', message: messageOf(error) };
  switch (error.code) {
    case 'DISCONNECTED':
    case 'CLOSED':
      return { code: AppErrorCode.NOT_CONNECTED, message: 'Not connected to the room right now' };
    case 'TIMEOUT':
      return { code: error.code, message: 'The host did not answer in time' };
    default:
      return { code: error.code, message: sentence(error.message) };
  }
}
