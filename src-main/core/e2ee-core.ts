/**
 * The app profile as an end-to-end encryption device (issue 35): once logged in to a host that has the
 * encrypted layer (`mls` in hello's features), every direct message and group goes through E2eeMessaging
 * and the room alone through the host in plain. The App API does not change: sends answer and report as
 * outbox events, decrypted messages and their changes arrive as message and event AppEvents, flagged
 * `e2ee`, and history and search run through the device's own history as well as the host's. A message
 * is kept in that history until the host stored it, and sent again after a reconnect or a restart
 * (e2ee-outbox.ts). Read positions, receipts and delivery stay the host's, by message id (PROTOCOL
 * §20.9): the device adds only the unread and mention counts of its messages and the delivery it was told of.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AppEvent, Result } from '../../src-shared/api.js';
import { type E2eeMessage, encryptable, isE2eeId } from '../../src-shared/e2ee-app.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { Target } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import type { CallHandlers } from './calls.js';
import type { CallKeys, CallKeysDevice } from './call-keys.js';
import { DeviceHistory } from './e2ee-history.js';
import { E2eeMessaging, type SealedFile } from './e2ee-messaging.js';
import { DeviceNotReady, EncryptedOutbox } from './e2ee-outbox.js';
import type { FileSecret } from '../crypto/file-seal.js';
import { DeviceStore, type KeySealer, deviceStoreKey } from '../client/e2ee-store.js';
import { describeRequestError, messageOf, NOT_UNSENT, ok } from './errors.js';
import type { Link, Server } from './link.js';
import { serverKey } from './pins.js';

const PAGE = 50;

export class E2eeCore {
  /** The device of the current connection, started once it is online. */
  private device: { client: ChatClient; started: Promise<E2eeMessaging | null> } | null = null;
  private readonly histories = new Map<string, DeviceHistory>();
  private key: Buffer | undefined;
  /** The encrypted messages not yet stored, kept in the account's device history. */
  private readonly outbox: EncryptedOutbox;
  /** Who hears the `call` messages this device decrypts (core/call-keys.ts). */
  private callKeys: ((keys: CallKeys) => void) | null = null;

  constructor(
    private readonly profileDir: string,
    private readonly link: Link,
    private readonly emit: (event: AppEvent) => void,
    /** The shell's OS keychain, which seals the key of the profile's device stores; without it a 0600 key file. */
    private readonly sealer?: KeySealer,
    /** Whether this app sends DMs and groups encrypted (AppCoreOptions.endToEnd); it reads them either way. */
    private readonly sends = true,
  ) {
    this.outbox = new EncryptedOutbox(
      {
        history: (create) => this.unsentHistory(create),
        online: () => this.link.view().status === 'online',
        hostEncrypts: () => this.hostEncrypts(),
        messaging: () => this.messaging(),
      },
      emit,
    );
  }

  /** The connection is online: its device starts (once per connection; a reconnect keeps it), and what waited to be sent goes. */
  online(): void {
    this.startDevice();
    this.outbox.kick();
  }

  private startDevice(): void {
    void this.link.request(async (client) => {
      if (this.device?.client === client) return;
      this.device?.started.then((messaging) => messaging?.close(), () => undefined);
      const account = this.account();
      if (account === null) return;
      const history = this.history(account);
      const started = (async () => {
        const store = new DeviceStore(join(this.accountDir(account), 'device'), this.storeKey());
        const messaging = await E2eeMessaging.start(client, history, store);
        messaging?.on('message', (message) => this.emit({ type: 'message', message }));
        messaging?.on('changed', (message, kind) => this.emit({ type: 'event', event: { eventId: 0, kind, message } }));
        messaging?.on('notice', (notice) => this.emit({ type: 'e2eeNotice', ...notice, ts: Date.now() }));
        messaging?.on('callKeys', (keys) => this.callKeys?.(keys));
        await messaging?.catchUp();
        if (messaging) {
          // A DM waiting for someone's device may go now (PROTOCOL §20.3): once per connection, as this start.
          client.on('deviceReady', () => this.outbox.kick());
          // A group message waiting for a member's app to add this device may go now.
          messaging.chats.on('joined', () => this.outbox.kick());
          client.on('sending', ({ clientMsgId }) => this.outbox.sending(clientMsgId));
        }
        return messaging;
      })();
      const device = { client, started };
      this.device = device;
      started.catch((error: unknown) => {
        // Asked before its connection was up (a resume's first calls): the next 'online' starts it again.
        if (this.device === device) this.device = null;
        console.error(`lanchat: this app could not become an encryption device: ${messageOf(error)}`);
      });
    });
  }

  /**
   * Resolves once a device start under way has settled (it writes the device's files: the connection,
   * closed first, ends its requests) and the histories' reader threads have ended.
   */
  async shutdown(): Promise<void> {
    this.outbox.stop();
    const closed = this.device?.started.then((messaging) => messaging?.close(), () => undefined);
    this.device = null;
    const histories = [...this.histories.values()];
    this.histories.clear();
    await Promise.all([closed, ...histories.map((history) => history.close())]);
  }

  /** The safety number with another user, and whether it is marked verified. */
  safetyNumber(user: string): Promise<Result<{ safetyNumber: string; verified: boolean }>> {
    return this.run(async (messaging) => messaging.safetyNumber(user));
  }

  /** The calls' side of the device (core/call-keys.ts): `heard` gets each `call` message it decrypts. */
  callKeysDevice(heard: (keys: CallKeys) => void): CallKeysDevice {
    this.callKeys = heard;
    return {
      encrypts: (conv) => this.encrypts(conv),
      vouch: async (conv, callId, endpoint, fingerprints) => (await this.messaging()).vouchCall(conv, callId, endpoint, fingerprints),
      admit: async (conv, user) => (await this.messaging()).admit(conv, user),
    };
  }

  markVerified(user: string): Promise<Result<void>> {
    return this.run((messaging) => messaging.markVerified(user));
  }

  private async run<T>(work: (messaging: E2eeMessaging) => Promise<T>): Promise<Result<T>> {
    try {
      return ok(await work(await this.messaging()));
    } catch (error) {
      return { ok: false, error: describeRequestError(error) };
    }
  }

  /** Whether the host has the encrypted layer: DMs and groups then go end-to-end encrypted. */
  private hostEncrypts(): boolean {
    return (this.link.view().features ?? []).includes('mls');
  }

  /** Whether the conversation is end-to-end encrypted here: a DM or group on a host with the encrypted layer. */
  encrypts(conv: string): boolean {
    return encryptable(conv) && this.hostEncrypts();
  }

  private async messaging(): Promise<E2eeMessaging> {
    // A call may come before the session event that starts the device (say, just after a join answered).
    this.startDevice();
    const messaging = await this.device?.started;
    if (!messaging) throw new DeviceNotReady('This app is not ready to encrypt yet: it has no device on this host');
    return messaging;
  }

  /** The folder name of the account signed in. */
  private account(): string | null {
    const { server, me } = this.link.view();
    return server === null || me === null ? null : accountFolder(server, me);
  }

  /**
   * The history where the account of the connection (or of the last one) keeps its unsent messages, also
   * before its login answered; `create`: opened even if the account has none yet (a send), else null then.
   */
  private unsentHistory(create: boolean): DeviceHistory | null {
    const account = this.link.account();
    if (account === null) return null;
    const folder = accountFolder(account.server, account.name);
    if (!create && !this.histories.has(folder) && !existsSync(historyFile(this.accountDir(folder)))) return null;
    return this.history(folder);
  }

  /** Where an account's device store and history are. */
  private accountDir(account: string): string {
    return join(this.profileDir, 'e2ee', account);
  }

  /** The device history of an account, opened once. */
  private history(account: string): DeviceHistory {
    let history = this.histories.get(account);
    if (history === undefined) {
      mkdirSync(this.accountDir(account), { recursive: true, mode: 0o700 });
      history = new DeviceHistory(historyFile(this.accountDir(account)), this.storeKey());
      this.histories.set(account, history);
    }
    return history;
  }

  /** The key of the profile's device stores and histories, from the keychain or its key file. */
  private storeKey(): Buffer {
    this.key ??= deviceStoreKey(this.profileDir, this.sealer);
    return this.key;
  }

  private currentHistory(): DeviceHistory | null {
    const account = this.account();
    return account === null ? null : this.history(account);
  }

  /** Whether a message to `target` goes end-to-end encrypted: its files are then sealed before upload. */
  seals(target: Target): boolean {
    return target.kind !== 'room' && this.sends && this.hostEncrypts();
  }

  /** The key, IV and digest of an encrypted message's file on this device, if it holds one. */
  fileSecret(fileId: string): FileSecret | undefined {
    return this.currentHistory()?.fileSecret(fileId);
  }

  /** Sends sealed files, uploaded already, in one encrypted message; the outcome comes as outbox events. */
  sendFiles(target: Exclude<Target, { kind: 'room' }>, caption: string, files: SealedFile[], replyTo?: number): Result<{ clientMsgId: string }> {
    return this.outbox.send(target, caption, replyTo, files);
  }

  /** Replaces, in place, the calls that touch encrypted conversations; the others stay the host's. */
  wrap(calls: CallHandlers): void {
    const plain = { ...calls };
    // Before a login answered the host's layer is unknown: a DM or group waits, kept encrypted, never goes plain.
    calls.send = async (target, text, replyTo) =>
      target.kind === 'room' || !this.sends || (this.link.view().me !== null && !this.hostEncrypts())
        ? plain.send(target, text, replyTo)
        : this.outbox.send(target, text, replyTo, []);
    calls.unsent = async () => {
      const plainOnes = await plain.unsent();
      const history = this.unsentHistory(false);
      return plainOnes.ok && history !== null ? ok([...plainOnes.value, ...this.outbox.list(history)]) : plainOnes;
    };
    calls.cancelUnsent = async (clientMsgId) => {
      const encrypted = await this.outbox.cancel(clientMsgId);
      return encrypted === NOT_UNSENT ? plain.cancelUnsent(clientMsgId) : encrypted;
    };
    calls.history = async (conv, before, limit) => {
      const history = this.encrypts(conv) ? this.currentHistory() : null;
      if (history === null) return plain.history(conv, before, limit);
      const size = limit ?? PAGE;
      const mine = history.page(conv, before, size);
      // The host knows delivery of plain messages; of encrypted ones this device kept what the host told it.
      const delivered = history.deliveredUpTo(conv);
      if (mine.messages.length === size) return ok({ messages: mine.messages, hasMore: true, deliveredUpTo: delivered });
      const host = await plain.history(conv, before !== undefined && !isE2eeId(before) ? before : undefined, size - mine.messages.length);
      if (!host.ok) return mine.messages.length > 0 ? ok({ ...mine, deliveredUpTo: delivered }) : host;
      return ok({ messages: [...host.value.messages, ...mine.messages], hasMore: host.value.hasMore, deliveredUpTo: Math.max(host.value.deliveredUpTo, delivered) });
    };
    calls.search = async (query, person, before) => {
      const history = this.currentHistory();
      if (history === null || (before !== undefined && !isE2eeId(before))) return plain.search(query, person, before);
      const mine = await history.search(query, person, before, PAGE);
      if (mine.hasMore) return ok({ hits: mine.messages.map((message) => ({ message })), hasMore: true });
      const host = await plain.search(query, person, undefined);
      if (!host.ok) return mine.messages.length > 0 ? ok({ hits: mine.messages.map((message) => ({ message })), hasMore: false }) : host;
      return ok({ hits: [...mine.messages.map((message) => ({ message })), ...host.value.hits], hasMore: host.value.hasMore });
    };
    calls.editMessage = (id, text) => (isE2eeId(id) ? this.change(id, { kind: 'edit', text }) : plain.editMessage(id, text));
    calls.deleteMessage = (id) => (isE2eeId(id) ? this.change(id, { kind: 'delete' }) : plain.deleteMessage(id));
    calls.react = (id, emoji, on) => (isE2eeId(id) ? this.change(id, { kind: 'reaction', emoji, on }) : plain.react(id, emoji, on));
    // Read positions stay the host's (markRead and receipts as for plain messages): an encrypted message's
    // id is its frame's, which the host has (PROTOCOL §20.12). Only what is unread after one is counted here.
    calls.readState = async () => {
      const states = await plain.readState();
      const history = states.ok && this.hostEncrypts() ? await this.caughtUp() : null;
      const me = this.link.view().me;
      if (!states.ok || history === null || me === null) return states;
      const max = LIMITS.maxUnreadCount;
      const encrypted = states.value.filter((state) => encryptable(state.conv));
      const counts = await history.unread(encrypted.map((state) => ({ conv: state.conv, after: state.upTo })), me, max);
      const mine = new Map(encrypted.map((state, index) => [state, counts[index]!]));
      return ok(
        states.value.map((state) => {
          const added = mine.get(state);
          return added ? { ...state, unread: Math.min(max, state.unread + added.unread), mentions: Math.min(max, state.mentions + added.mentions) } : state;
        }),
      );
    };
  }

  /** The device history once the device heard what was sent while it was away (null: it has no device here). */
  private async caughtUp(): Promise<DeviceHistory | null> {
    try {
      await this.messaging();
    } catch {
      return null;
    }
    return this.currentHistory();
  }


  private change(id: number, change: Parameters<E2eeMessaging['change']>[1]): Promise<Result<E2eeMessage>> {
    return this.run((messaging) => messaging.change(id, change));
  }
}

const historyFile = (accountDir: string): string => join(accountDir, 'history.sqlite');

/** The folder of an account's device store and history: one per host and account, a hash, as names may hold any character. */
function accountFolder(server: Server, name: string): string {
  return createHash('sha256').update(`${serverKey(server)}\n${nameKey(name)}`).digest('hex').slice(0, 32);
}
