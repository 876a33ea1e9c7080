/**
 * The app core: everything behind the App API that is not a window. It holds at
 * most one chat connection (link.ts) and optionally one hosted room (hosting.ts),
 * keeps the profile's settings, and answers every call with a Result. The shells
 * (Electron, browser) only carry calls and events between their windows and this class.
 */
import { join } from 'node:path';
import {
  type AppApi,
  type AppCallName,
  type AppEvent,
  AppErrorCode,
  type HostRequest,
  type JoinRequest,
  type NearbyRoom,
  type Result,
  type SessionView,
  type Settings,
} from '../../src-shared/api.js';
import { APP_CALLS } from '../../src-shared/api-schema.js';
import { type CallHandlers, dispatchCall } from './calls.js';
import { type ConversationKey, groupConversation } from '../../src-shared/protocol/conversation.js';
import { coalesce } from './coalesce.js';
import { NOT_HOSTING, fail, messageOf, ok, sentence } from './errors.js';
import { type DesktopFiles, FileCore } from './files.js';
import { E2eeCore } from './e2ee-core.js';
import { type ConversationExport, type ExportFormat, allMessages, exportConversation } from './export.js';
import { Hosting } from './hosting.js';
import { Link } from './link.js';
import { VoiceCallsCore } from './voice-calls.js';
import { type RoomWatcher, type WatchTiming, watchRooms } from '../discovery/browse.js';
import { formatAddress } from '../net/connection.js';
import { serverKey } from './pins.js';
import { SettingsFile, type TokenSealer, ensureProfileDir } from './profile-files.js';

export interface AppCoreOptions {
  profileDir: string;
  /** How the shell opens a conversation in its own window; without it openChatWindow answers UNSUPPORTED. */
  openChatWindow?: (conv: ConversationKey) => Promise<Result<void>>;
  /** Open, Show in folder and Save as… for received files; without it those calls answer UNSUPPORTED. */
  desktopFiles?: DesktopFiles;
  /** Encrypts saved session tokens with the user's OS key; without it they are stored as they are (mode 0600). */
  tokenSealer?: TokenSealer;
  /** Tests only: faster re-queries, so a vanished room ages out in seconds. */
  roomWatchTiming?: WatchTiming;
  /** Tests only: a cheaper scrypt (log2 N) for the hosted room's passwords, where a test is not about it. */
  passwordCost?: number;
  /**
   * Sends direct messages and groups end-to-end encrypted (issue 35; default: on, LANCHAT_E2EE=off turns it
   * off). Off, the device still runs: what others send encrypted is read.
   */
  endToEnd?: boolean;
  /** Tests only: how long a call's offer or answer waits for the message that vouches for its keys (core/call-keys.ts). */
  callVouchWaitMs?: number;
}

/** The calls as methods, each validated and run by dispatch (see CallFacade below). */
abstract class Dispatcher {
  abstract dispatch(call: unknown, args: unknown): Promise<Result<unknown>>;
}
for (const call of APP_CALLS) {
  Object.defineProperty(Dispatcher.prototype, call, {
    value: function (this: Dispatcher, ...args: unknown[]) {
      return this.dispatch(call, args);
    },
  });
}
// The loop above gave the prototype one method per call; dispatch answers each with its own Result type.
const CallFacade = Dispatcher as abstract new () => Dispatcher & Pick<AppApi, AppCallName>;

export class AppCore extends CallFacade implements AppApi {
  private readonly profileDir: string;
  private readonly settingsFile: SettingsFile;
  private readonly openChatWindowInShell: AppCoreOptions['openChatWindow'];
  private readonly roomWatchTiming: AppCoreOptions['roomWatchTiming'];
  private readonly listeners = new Set<(event: AppEvent) => void>();
  /** Calls that open or close the connection or the hosted room run one after another. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  // A single change (say, connect failing) moves the client through several states in one
  // tick; windows get one session event with the final view instead of a flicker of them.
  private readonly announceSession = coalesce(() => this.emit({ type: 'session', session: this.view() }));
  private readonly link: Link;
  private readonly hosting: Hosting;
  private readonly files: FileCore;
  private readonly voiceCalls: VoiceCallsCore;
  private readonly e2ee: E2eeCore;
  private readonly endToEnd: boolean;
  /** Started by the first nearbyRooms call, watching until shutdown. */
  private roomWatcher: RoomWatcher | null = null;

  /** Every call, with arguments already checked: dispatch's, and what ResumingCore wraps. */
  readonly calls: CallHandlers = {
    host: (request) => this.serialized(() => this.startHosting(request)),
    stopHosting: () => this.serialized(() => this.stopHostingRoom()),
    join: (request) => this.serialized(() => this.joinRoom(request)),
    nearbyRooms: async () => this.nearbyRoomsNow(),
    leave: () => this.serialized(async () => this.link.leave()),
    signOut: () => this.serialized(() => this.link.signOut()),
    session: async () => ok(this.view()),
    send: async (target, text, replyTo) => this.link.send(target, text, replyTo),
    unsent: async () => ok(this.link.unsent()),
    // A plain message that never went out (e2ee-core.ts adds the encrypted ones that wait for someone's app).
    cancelUnsent: (clientMsgId) => this.link.cancelUnsent(clientMsgId),
    history: (conv, before, limit) => this.link.request((client) => client.request('history', { conv, before, limit })),
    search: (query, person, before) => this.link.request((client) => client.request('search', { query, person, before })),
    users: () => this.link.request(async (client) => (await client.request('users')).users),
    contacts: () => this.link.request(async (client) => (await client.request('contacts')).contacts),
    chatRequest: (user) => this.link.request(async (client) => (await client.request('chatRequest', { user })).contact),
    chatAnswer: (user, accept) => this.link.request(async (client) => (await client.request('chatAnswer', { user, accept })).contact),
    chatLeave: (user) => this.link.request(async (client) => void (await client.request('chatLeave', { user }))),
    groups: () => this.link.request(async (client) => (await client.request('groups')).groups),
    groupCreate: (name, members) =>
      this.link.request(async (client) => (await client.request('groupCreate', { name, ...(members ? { members } : {}) })).group),
    groupRename: (groupId, name) => this.link.request(async (client) => (await client.request('groupRename', { groupId, name })).group),
    groupDelete: (groupId) => this.link.request(async (client) => void (await client.request('groupDelete', { groupId }))),
    groupAddMember: (groupId, user) => this.link.request(async (client) => (await client.request('groupAddMember', { groupId, user })).group),
    groupRemoveMember: (groupId, user) =>
      this.link.request(async (client) => (await client.request('groupRemoveMember', { groupId, user })).group),
    hostUsers: async () => this.hosting.users(),
    hostPending: async () => this.hosting.pending(),
    hostBans: async () => this.hosting.bans(),
    hostAdmin: (action) => this.hosting.admin(action),
    changePassword: (current, password) =>
      this.link.request(async (client) => void (await client.request('changePassword', { current, password }))),
    hostLog: async () => ok(this.hosting.log()),
    acknowledgeFingerprint: async () => this.link.endFirstUse(),
    trustedHosts: async () => ok(this.link.trust.hosts()),
    forgetHost: async (server) => this.link.trust.forget(server),
    settings: async () => ok(this.settingsFile.value),
    updateSettings: async (changes) => ok(this.saveSettings(changes)),
    groupInvitations: () => this.link.request(async (client) => (await client.request('groupInvitations')).invitations),
    groupAnswer: (groupId, accept) =>
      this.link.request(async (client) => (await client.request('groupAnswer', { groupId, accept })).group ?? null),
    openChatWindow: async (conv) =>
      this.openChatWindowInShell
        ? this.openChatWindowInShell(conv)
        : fail(AppErrorCode.UNSUPPORTED, 'This shell cannot open a conversation in a window of its own'),
    editMessage: (id, text) => this.link.request(async (client) => (await client.request('edit', { messageId: id, text })).message),
    deleteMessage: (id) => this.link.request(async (client) => (await client.request('delete', { messageId: id })).message),
    react: (id, emoji, on) => this.link.request(async (client) => (await client.request('react', { messageId: id, emoji, on })).message),
    markRead: (conv, upTo) => this.link.request(async (client) => (await client.request('read', { conv, upTo })).upTo),
    readState: () => this.link.request(async (client) => (await client.request('readState')).conversations),
    receipts: (conv) => this.link.request(async (client) => (await client.request('receipts', { conv })).receipts),
    typing: async (conv) => (this.settingsFile.value.sendTyping ? this.link.typing(conv) : ok(undefined)),
    privacy: (changes) => this.link.request((client) => client.request('privacy', changes ?? {})),
    // Purging accounts that never wrote (issue 10 item 2).
    hostSilentAccounts: (olderThanMinutes) => this.hosting.silentAccounts(olderThanMinutes),
    // files (issue 13)
    sendFiles: async (target, files, caption, replyTo) => this.files.sendFiles(target, files, caption, replyTo),
    downloadFile: (fileId, name, path) => this.files.downloadFile(fileId, name, path),
    cancelTransfer: async (transfer) => this.files.cancel(transfer),
    retryTransfer: async (transfer) => this.files.retry(transfer),
    openFile: (fileId, name, confirmed) => this.files.openFile(fileId, name, confirmed),
    showFileInFolder: (fileId, name) => this.files.showInFolder(fileId, name),
    saveFileAs: (fileId, name) => this.files.saveAs(fileId, name),
    // Calls (issue 39)
    callStart: (conv, video) => this.voiceCalls.start(conv, video),
    callJoin: (callId) => this.voiceCalls.join(callId),
    callDecline: (callId) => this.voiceCalls.decline(callId),
    callLeave: (callId) => this.voiceCalls.leave(callId),
    callSignal: (callId, to, signal) => this.voiceCalls.signal(callId, to, signal),
    activeCalls: () => this.voiceCalls.list(),
    safetyNumber: (user) => this.e2ee.safetyNumber(user),
    markVerified: (user) => this.e2ee.markVerified(user),
    exportConversation: (conv, format) => this.exportFile(conv, format),
  };

  constructor(options: AppCoreOptions) {
    super();
    this.profileDir = options.profileDir;
    ensureProfileDir(this.profileDir);
    this.settingsFile = new SettingsFile(this.profileDir);
    this.openChatWindowInShell = options.openChatWindow;
    this.roomWatchTiming = options.roomWatchTiming;
    const emit = (event: AppEvent): void => this.emit(event);
    this.link = new Link(this.profileDir, emit, this.announceSession, options.tokenSealer);
    this.hosting = new Hosting(join(this.profileDir, 'host'), emit, options.passwordCost);
    // Direct messages and groups go end-to-end encrypted: their calls are replaced in the table above.
    this.endToEnd = options.endToEnd ?? process.env.LANCHAT_E2EE !== 'off';
    this.e2ee = new E2eeCore(this.profileDir, this.link, emit, options.tokenSealer, this.endToEnd);
    this.e2ee.wrap(this.calls);
    this.voiceCalls = new VoiceCallsCore(this.link, emit, (heard) => this.e2ee.callKeysDevice(heard), options.callVouchWaitMs);
    const link = this.link;
    this.files = new FileCore(
      {
        transferLink: () => link.transferLink(),
        account: () => {
          const { server, me } = link.view();
          return server && me !== null ? `${me}@${serverKey(server)}` : null;
        },
        maxFileBytes: () => link.helloLimits()?.maxFileBytes,
        send: (target, text, attachments, replyTo) => link.send(target, text, replyTo, attachments),
        sealing: {
          seals: (target) => this.e2ee.seals(target),
          send: (target, caption, files, replyTo) => this.e2ee.sendFiles(target, caption, files, replyTo),
          secret: (fileId) => this.e2ee.fileSecret(fileId),
        },
      },
      emit,
      this.profileDir,
      options.desktopFiles,
    );
  }

  /**
   * The one entry for calls from windows: validates the call and its arguments,
   * runs it, and answers with a Result whatever happens.
   */
  dispatch(call: unknown, args: unknown): Promise<Result<unknown>> {
    return dispatchCall(this.calls, call, args);
  }

  /** Closes the connection (the saved session stays valid for the next start) and stops hosting. */
  shutdown(): Promise<void> {
    return this.serialized(async () => {
      this.files.stop();
      this.link.close();
      await Promise.all([this.e2ee.shutdown(), this.stopHost(), this.roomWatcher?.stop()]);
      this.roomWatcher = null;
    });
  }

  onEvent(listener: (event: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private async startHosting(request: HostRequest): Promise<Result<SessionView>> {
    const hosting = this.hosting.info;
    if (hosting) return fail(AppErrorCode.ALREADY_CONNECTED, `Already hosting ${hosting.roomName} on port ${hosting.port}`);
    const server = this.link.server;
    if (server) return fail(AppErrorCode.ALREADY_CONNECTED, `Leave the room on ${serverKey(server)} before hosting one`);
    const started = await this.hosting.start(request);
    if (!started.ok) return started;
    const { port, fingerprint } = started.value;
    const joined = await this.link.connect({ host: '127.0.0.1', port }, request.name, request.password, { own: true, fingerprint });
    if (!joined.ok) {
      await this.stopHost();
      return joined;
    }
    const view = this.view();
    this.rememberLastUsed({ lastMode: 'host', lastRoomName: request.roomName, lastPort: port, lastName: view.me ?? request.name, lastFileLimits: request.fileLimits ?? {} });
    return ok(view);
  }

  /** The conversation as a file, from what `history` pages through: the device's store and the host's. */
  private async exportFile(conv: ConversationKey, format: ExportFormat): Promise<Result<ConversationExport>> {
    const messages = await allMessages((before, limit) => this.calls.history(conv, before, limit));
    if (!messages.ok) return messages;
    const { me, roomName } = this.link.view();
    let title = roomName ?? 'Room';
    if (conv.startsWith('group:')) {
      const groups = await this.calls.groups();
      title = (groups.ok ? groups.value.find((group) => groupConversation(group.id) === conv)?.name : undefined) ?? conv;
    } else if (conv.startsWith('dm:')) {
      // The host's contact names the other person even before anything is stored in the chat; the
      // messages still do once the chat has ended.
      const contacts = await this.calls.contacts();
      const contact = contacts.ok ? contacts.value.find((candidate) => candidate.conv === conv)?.name : undefined;
      const other = messages.value.map((message) => (message.from === me ? message.to : message.from)).find((name) => name !== undefined && name !== me);
      title = contact ?? other ?? conv;
    }
    const heading = { conv, title, exportedBy: me ?? '', exportedAt: Date.now(), endToEnd: this.e2ee.encrypts(conv) };
    return ok(exportConversation(heading, messages.value, format));
  }

  private async stopHostingRoom(): Promise<Result<void>> {
    if (!this.hosting.info) return NOT_HOSTING;
    // Our own client goes first, on purpose, so it does not report its own host as gone.
    this.link.close();
    await this.stopHost();
    return ok(undefined);
  }

  private async stopHost(): Promise<void> {
    if (!this.hosting.info) return;
    const stopped = this.hosting.stop();
    this.announceSession();
    await stopped;
  }

  private async joinRoom(request: JoinRequest): Promise<Result<SessionView>> {
    const server = this.link.server;
    if (server) return fail(AppErrorCode.ALREADY_CONNECTED, `Already in the room on ${serverKey(server)}; leave it first`);
    const joined = await this.link.connect(
      { host: request.host, port: request.port, ...(request.alternates?.length ? { alternates: request.alternates } : {}) },
      request.name,
      request.password,
      {
        own: false,
        acceptFingerprint: request.acceptFingerprint,
        allowUnencrypted: request.allowUnencrypted,
        announcedFingerprint: request.announcedFingerprint,
        announcedRoomName: request.announcedRoomName,
        differentRoom: request.differentRoom,
      },
      { passphrase: request.passphrase, create: request.create },
    );
    if (!joined.ok) return joined;
    // The room list marks the room just entered as known.
    this.roomWatcher?.refresh();
    const view = this.view();
    const lastHost = request.alternates?.length ? [request, ...request.alternates].map((address) => formatAddress(address.host, address.port)).join(', ') : request.host;
    this.rememberLastUsed({ lastMode: 'join', lastHost, lastPort: request.port, lastName: view.me ?? request.name });
    return ok(view);
  }

  private view(): SessionView {
    const view = this.link.view();
    // The window shows a conversation as end-to-end encrypted by the host's 'mls': only when this app sends so.
    const features = view.features && !this.endToEnd ? { features: view.features.filter((feature) => feature !== 'mls') } : {};
    return { ...view, ...features, hosting: this.hosting.info };
  }

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

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(task);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }

  /** Starts watching the network on the first call; changes then arrive as nearbyRooms events. */
  private nearbyRoomsNow(): Result<NearbyRoom[]> {
    if (!this.roomWatcher) {
      const watcher = watchRooms(
        (rooms) => this.emit({ type: 'nearbyRooms', rooms }),
        (error) => console.error(`lanchat: looking for rooms on the network failed: ${error.message}`),
        this.roomWatchTiming,
        this.link.trust.knownRooms,
      );
      if ('off' in watcher) return fail(AppErrorCode.UNSUPPORTED, sentence(watcher.off));
      this.roomWatcher = watcher;
    }
    return ok(this.roomWatcher.rooms());
  }

  private emit(event: AppEvent): void {
    if (event.type === 'session' && event.session.status === 'online') {
      this.files.resume();
      this.e2ee.online();
    }
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
