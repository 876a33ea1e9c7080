/**
 * The terminal's end-to-end encrypted messages go through the app's own outbox (core/e2ee-outbox.ts): each
 * is kept in this install's device history (one per host and account) until the host stored it or refused
 * it, in order per conversation. A DM to someone whose client cannot receive it yet waits until it can
 * (`deviceReady`, or after a reconnect), as does a group message while no other member's client can receive it;
 * /cancel and /group_cancel drop what waits. One whose link dropped goes again under its first client id; what
 * has not gone when the terminal quits goes at its next connection as the same user. This turns the
 * outbox's progress into lines.
 */
import { type AppEvent, AppErrorCode } from '../../src-shared/api.js';
import type { ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import type { E2eeMessaging } from '../core/e2ee-messaging.js';
import { conversationOf, DeviceNotReady, EncryptedOutbox } from '../core/e2ee-outbox.js';

type EncryptedTarget = Exclude<Target, { kind: 'room' }>;

export class TerminalOutbox {
  private readonly outbox: EncryptedOutbox;
  private device: E2eeMessaging | null = null;
  /** Messages the terminal said are waiting: it says when they go. */
  private readonly told = new Set<string>();

  constructor(
    private readonly client: ChatClient,
    private readonly print: (line: string) => void,
    /** The name of the user or group a message goes to: "bob", "plans". */
    private readonly nameOf: (target: Target) => string,
    private readonly remember: (message: ChatMessage) => void,
  ) {
    this.outbox = new EncryptedOutbox(
      {
        history: () => this.device?.history ?? null,
        online: () => client.state === 'online',
        hostEncrypts: () => this.device !== null,
        messaging: async () => {
          if (this.device === null) throw new DeviceNotReady('the encryption device has not started');
          return this.device;
        },
      },
      (event) => this.progress(event),
    );
    client.on('deviceReady', () => this.outbox.kick());
    // A device may have become ready while the link was down, its push missed; a try cut by the drop goes again.
    client.on('online', () => this.outbox.kick());
    client.on('sending', ({ clientMsgId }) => this.outbox.sending(clientMsgId));
  }

  /** The device runs: what an earlier run of the terminal kept goes now. */
  start(device: E2eeMessaging): void {
    this.device = device;
    // A group message waiting for a member's app to add this device may go now.
    device.chats.on('joined', () => this.outbox.kick());
    for (const { clientMsgId, target, text } of this.outbox.list(device.history)) {
      this.told.add(clientMsgId);
      this.print(`*** not sent in your last session, going now: ${text} (to ${this.describe(target)})`);
    }
    this.outbox.kick();
  }

  /** Keeps the message and sends it as soon as it can; says so when it must wait. */
  send(target: EncryptedTarget, text: string, replyTo?: number): void {
    const history = this.device?.history;
    // Behind one waiting for the other user's client, not behind one merely on its way.
    const behind = history !== undefined && this.outbox.list(history).some((item) => item.error?.code === AppErrorCode.E2EE_WAITING && conversationOf(item.target) === conversationOf(target));
    const kept = this.outbox.send(target, text, replyTo, []);
    if (!kept.ok) throw new Error(kept.error.message);
    if (behind) {
      this.told.add(kept.value.clientMsgId);
      this.print(`*** waits behind your earlier message to ${this.describe(target)}`);
    } else if (this.client.state !== 'online') {
      this.told.add(kept.value.clientMsgId);
      this.print('*** not connected: this goes once you are back');
    }
  }

  /**
   * /cancel <name> and /group_cancel <group>: drops the messages to `target` that have not gone out; one that
   * went out may be stored, and stays.
   */
  async cancel(target: EncryptedTarget): Promise<void> {
    const where = this.describe(target);
    const history = this.device?.history;
    const waiting = history === undefined ? [] : this.outbox.list(history).filter((item) => conversationOf(item.target) === conversationOf(target));
    const dropped: string[] = [];
    const maybeSent: string[] = [];
    for (const { clientMsgId, text } of waiting) {
      const cancelled = await this.outbox.cancel(clientMsgId);
      if (cancelled.ok) dropped.push(text);
      else if (cancelled.error.code === AppErrorCode.MAYBE_SENT) maybeSent.push(text);
      this.told.delete(clientMsgId);
    }
    if (dropped.length > 0) this.print(`*** dropped ${dropped.length} waiting for ${where}: ${dropped.join(' | ')}`);
    if (maybeSent.length > 0) this.print(`*** went out as the connection dropped, so ${where} may have it already (kept until the host answers): ${maybeSent.join(' | ')}`);
    if (dropped.length === 0 && maybeSent.length === 0) this.print(`*** nothing waits to go to ${where}`);
  }

  /** How a line names where a message goes: "bob", "group plans". */
  private describe(target: Target): string {
    return target.kind === 'group' ? `group ${this.nameOf(target)}` : this.nameOf(target);
  }

  /** The command that drops what waits to go to `target`. */
  private cancelCommand(target: Target): string {
    return `${target.kind === 'group' ? '/group_cancel' : '/cancel'} ${this.nameOf(target)}`;
  }

  /** The terminal quits: says what is kept for its next connection; nothing more is tried or written. */
  leaving(): void {
    this.outbox.stop();
    const history = this.device?.history;
    if (history === undefined) return;
    for (const { target, text } of this.outbox.list(history)) this.print(`*** not sent yet, kept on this device for your next connection: ${text} (to ${this.describe(target)})`);
  }

  private progress(event: AppEvent): void {
    if (event.type !== 'outbox') return;
    const where = this.describe(event.target);
    if (event.status === 'queued' && event.error?.code === AppErrorCode.E2EE_WAITING) {
      this.told.add(event.clientMsgId);
      const members = event.error.waitingFor;
      // Without whose client it waits for, it waits to be added: a group joined since, or a DM of a user's new client.
      const why =
        members === undefined
          ? `this device is not in the encryption of ${where} yet: this goes once ${event.target.kind === 'dm' ? `${where}'s` : "another member's"} client adds it`
          : event.target.kind === 'dm'
            ? `${where}'s client cannot receive end-to-end encrypted messages yet: this goes once it can`
            : `the clients of ${members.join(', ')} cannot receive end-to-end encrypted messages yet: this goes to ${where} once one can`;
      this.print(`*** ${why} (${this.cancelCommand(event.target)} drops it)`);
      // Written since, before this was known: they wait behind it.
      const history = this.device?.history;
      const behind = history === undefined ? [] : this.outbox.list(history).filter((item) => !this.told.has(item.clientMsgId) && conversationOf(item.target) === conversationOf(event.target));
      for (const item of behind) this.told.add(item.clientMsgId);
      if (behind.length > 0) this.print(`*** ${behind.length} more to ${where} ${behind.length === 1 ? 'waits' : 'wait'} behind it`);
    } else if (event.status === 'sent' && event.message) {
      this.remember(event.message);
      if (this.told.delete(event.clientMsgId)) this.print(`*** went to ${where}: ${event.text}`);
    } else if (event.status === 'failed' && event.error?.code !== AppErrorCode.CANCELLED) {
      this.told.delete(event.clientMsgId);
      this.print(`! not sent to ${where}: ${event.error?.message ?? 'refused'}: ${event.text}`);
    }
  }
}
