/**
 * The app profile as an end-to-end encryption device (issue 35): once logged in to a host that has the
 * encrypted layer (`mls` in hello's features), every direct message and group goes through E2eeMessaging
 * and the room alone through the host in plain. The App API does not change: sends answer and report as
 * outbox events, decrypted messages and their changes arrive as message and event AppEvents, flagged
 * `e2ee`, and history and search run through the device's own history as well as the host's.
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type AppEvent, AppErrorCode, type Result } from '../../src-shared/api.js';
import { type E2eeMessage, encryptable, isE2eeId } from '../../src-shared/e2ee-app.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import type { CallHandlers } from './calls.js';
import { DeviceHistory, type OpenHistoryDatabase } from './e2ee-history.js';
import { E2eeMessaging } from './e2ee-messaging.js';
import { describeRequestError, fail, messageOf, ok } from './errors.js';
import type { Link } from './link.js';
import { serverKey } from './pins.js';

const PAGE = 50;

/** Verification as EncryptedChats offers it (helper e2ee-host's branch): called only when present. */
interface Verification {
  safetyNumber(user: string): Promise<string> | string;
  markVerified(user: string): Promise<void> | void;
  verification(user: string): unknown;
}

export class E2eeCore {
  /** The device of the current connection, started once it is online. */
  private device: { client: ChatClient; started: Promise<E2eeMessaging | null> } | null = null;
  private readonly histories = new Map<string, DeviceHistory>();

  constructor(
    private readonly profileDir: string,
    private readonly link: Link,
    private readonly emit: (event: AppEvent) => void,
    private readonly openDatabase?: OpenHistoryDatabase,
  ) {}

  /** The connection is online: its device starts (once per connection; a reconnect keeps it). */
  online(): void {
    void this.link.request(async (client) => {
      if (this.device?.client === client) return;
      this.device?.started.then((messaging) => messaging?.close(), () => undefined);
      const history = this.history();
      if (history === null) return;
      const started = E2eeMessaging.start(client, history).then((messaging) => {
        messaging?.on('message', (message) => this.emit({ type: 'message', message }));
        messaging?.on('changed', (message, kind) => this.emit({ type: 'event', event: { eventId: 0, kind, message } }));
        messaging?.on('notice', (notice) => this.emit({ type: 'e2eeNotice', ...notice, ts: Date.now() }));
        return messaging;
      });
      started.catch((error: unknown) => console.error(`lanchat: this app could not become an encryption device: ${messageOf(error)}`));
      this.device = { client, started };
    });
  }

  shutdown(): void {
    this.device?.started.then((messaging) => messaging?.close(), () => undefined);
    this.device = null;
    for (const history of this.histories.values()) history.close();
    this.histories.clear();
  }

  /** The safety number with another user (helper e2ee-host's verification in EncryptedChats). */
  async safetyNumber(user: string): Promise<Result<{ safetyNumber: string; verified: boolean }>> {
    return this.verifying(async (verification) => {
      const safetyNumber = await verification.safetyNumber(user);
      const state = await verification.verification(user);
      return { safetyNumber, verified: state === 'verified' || (typeof state === 'object' && state !== null && 'verified' in state && state.verified === true) };
    });
  }

  markVerified(user: string): Promise<Result<void>> {
    return this.verifying(async (verification) => void (await verification.markVerified(user)));
  }

  private async verifying<T>(run: (verification: Verification) => Promise<T>): Promise<Result<T>> {
    try {
      const chats = (await this.messaging()).chats as unknown as Partial<Verification>;
      if (typeof chats.safetyNumber !== 'function' || typeof chats.markVerified !== 'function' || typeof chats.verification !== 'function') {
        return fail(AppErrorCode.UNSUPPORTED, 'Safety numbers are not available in this version');
      }
      return ok(await run(chats as Verification));
    } catch (error) {
      return { ok: false, error: describeRequestError(error) };
    }
  }

  /** Whether the host has the encrypted layer: DMs and groups then go end-to-end encrypted. */
  private hostEncrypts(): boolean {
    return (this.link.view().features ?? []).includes('mls');
  }

  private encrypts(conv: string): boolean {
    return encryptable(conv) && this.hostEncrypts();
  }

  private async messaging(): Promise<E2eeMessaging> {
    // A call may come before the session event that starts the device (say, just after a join answered).
    this.online();
    const messaging = await this.device?.started;
    if (!messaging) throw new Error('This app is not ready to encrypt yet: it has no device on this host');
    return messaging;
  }

  /** The device history of the account signed in (or last signed in), opened once. */
  private history(): DeviceHistory | null {
    const { server, me } = this.link.view();
    if (server === null || me === null) return null;
    // One file per host and account, named by a hash: names may hold any character.
    const account = createHash('sha256').update(`${serverKey(server)}\n${nameKey(me)}`).digest('hex').slice(0, 32);
    let history = this.histories.get(account);
    if (history === undefined) {
      history = new DeviceHistory(join(this.profileDir, 'e2ee', account, 'history.sqlite'), this.openDatabase);
      this.histories.set(account, history);
    }
    return history;
  }

  /** Replaces, in place, the calls that touch encrypted conversations; the others stay the host's. */
  wrap(calls: CallHandlers): void {
    const plain = { ...calls };
    calls.send = async (target, text, replyTo) =>
      target.kind === 'room' || !this.hostEncrypts() ? plain.send(target, text, replyTo) : ok(this.sendEncrypted(target, text, replyTo));
    calls.history = async (conv, before, limit) => {
      const history = this.encrypts(conv) ? this.history() : null;
      if (history === null) return plain.history(conv, before, limit);
      const size = limit ?? PAGE;
      const mine = history.page(conv, before, size);
      if (mine.messages.length === size) return ok({ messages: mine.messages, hasMore: true, deliveredUpTo: 0 });
      const host = await plain.history(conv, before !== undefined && !isE2eeId(before) ? before : undefined, size - mine.messages.length);
      if (!host.ok) return mine.messages.length > 0 ? ok({ ...mine, deliveredUpTo: 0 }) : host;
      return ok({ messages: [...host.value.messages, ...mine.messages], hasMore: host.value.hasMore, deliveredUpTo: host.value.deliveredUpTo });
    };
    calls.search = async (query, person, before) => {
      const history = this.history();
      if (history === null || (before !== undefined && !isE2eeId(before))) return plain.search(query, person, before);
      const mine = history.search(query, person, before, PAGE);
      if (mine.hasMore) return ok({ hits: mine.messages.map((message) => ({ message })), hasMore: true });
      const host = await plain.search(query, person, undefined);
      if (!host.ok) return mine.messages.length > 0 ? ok({ hits: mine.messages.map((message) => ({ message })), hasMore: false }) : host;
      return ok({ hits: [...mine.messages.map((message) => ({ message })), ...host.value.hits], hasMore: host.value.hasMore });
    };
    calls.editMessage = (id, text) => (isE2eeId(id) ? this.change(id, { kind: 'edit', text }) : plain.editMessage(id, text));
    calls.deleteMessage = (id) => (isE2eeId(id) ? this.change(id, { kind: 'delete' }) : plain.deleteMessage(id));
    calls.react = (id, emoji, on) => (isE2eeId(id) ? this.change(id, { kind: 'reaction', emoji, on }) : plain.react(id, emoji, on));
    // Reading an encrypted message is not told to the host: the mark stays on this device.
    calls.markRead = async (conv, upTo) => (isE2eeId(upTo) ? ok(upTo) : plain.markRead(conv, upTo));
  }


  /** Answers at once with the client id; the outcome comes as outbox events, as for a plain message. */
  private sendEncrypted(target: Exclude<Target, { kind: 'room' }>, text: string, replyTo?: number): { clientMsgId: string } {
    const clientMsgId = randomUUID();
    const outbox = (status: 'queued' | 'sent' | 'failed', more: { message?: ChatMessage; error?: { code: string; message: string } } = {}): void =>
      this.emit({ type: 'outbox', clientMsgId, status, target, text, ...(replyTo !== undefined ? { replyTo } : {}), ts: Date.now(), ...more });
    outbox('queued');
    void (async () => {
      try {
        const message = await (await this.messaging()).send(target, text, replyTo, clientMsgId);
        outbox('sent', { message });
      } catch (error) {
        const code = error instanceof Error && 'code' in error && error.code === 'E2EE_UNAVAILABLE' ? AppErrorCode.E2EE_UNAVAILABLE : undefined;
        outbox('failed', { error: code ? { code, message: messageOf(error) } : describeRequestError(error) });
      }
    })();
    return { clientMsgId };
  }

  private async change(id: number, change: Parameters<E2eeMessaging['change']>[1]): Promise<Result<E2eeMessage>> {
    try {
      return ok(await (await this.messaging()).change(id, change));
    } catch (error) {
      return { ok: false, error: describeRequestError(error) };
    }
  }
}
