/**
 * The end-to-end encrypted messages given to send and not yet stored by the host or refused for good
 * (issue 35), as unsent.ts is for plain ones. Each is kept before it leaves in the device's history
 * (e2ee-history.ts, encrypted at rest: never in the profile's plain outbox.json), with its client id,
 * target, text, reply, time and the sealed files it carries. They go one at a time in the order given
 * whenever the device is ready: at each reconnect, and at the next start of the app for the account.
 * A DM to someone whose app cannot be added yet (PeerNotReady) waits, with those after it in the same
 * conversation, until the host says a device of theirs can be (`deviceReady`), or until its sender cancels
 * it; so does a group message of a device not in the group's encryption yet (NotAddedYet), until a member's
 * app adds it (`joined`), and one to a group whose other members have no device yet (PeerNotReady too), until
 * one has (`deviceReady`). The other conversations' messages go meanwhile.
 * Each try is encrypted anew (a new generation) under the first client id, so the host stores it once
 * and answers a resend with the frame it stored (PROTOCOL §20.6). A try that fails for the moment (the
 * link, a timeout, the device not ready, the host failing) keeps it and those after it; a refusal ends
 * it as 'failed'. Progress goes out as outbox events, as for a plain message. Once a try has gone out the
 * host may have it, so from then on it is marked `tried` and cannot be cancelled (MAYBE_SENT).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type AppError, type AppEvent, AppErrorCode, type OutboxStatus, type Result, type UnsentMessage } from '../../src-shared/api.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { type ChatMessage, groupId, messageId, nameField, type Target } from '../../src-shared/protocol/objects.js';
import { ClientError } from '../client/errors.js';
import { failedRetryMs } from '../client/outbox.js';
import type { DeviceHistory } from './e2ee-history.js';
import { type E2eeMessaging, E2eeUnavailable, NotReadyYet, PeerNotReady, type SealedFile, sealedFile } from './e2ee-messaging.js';
import { CANCELLED_BY_YOU, describeRequestError, fail, MAYBE_SENT, messageOf, NOT_UNSENT, ok } from './errors.js';

type EncryptedTarget = Exclude<Target, { kind: 'room' }>;

/** A message as the history keeps it (JSON), read back checked. */
const kept = z.object({
  target: z.discriminatedUnion('kind', [z.object({ kind: z.literal('dm'), user: nameField }), z.object({ kind: z.literal('group'), groupId })]),
  text: z.string(),
  replyTo: messageId.optional(),
  files: z.array(sealedFile),
  ts: z.number().int(),
  /** It went out once (ChatClient 'sending'): the host may have it, so it can no longer be cancelled. */
  tried: z.literal(true).optional(),
});
type Unsent = z.infer<typeof kept> & { clientMsgId: string };

/** The message as the history keeps it. */
const keptJson = ({ clientMsgId: _id, ...item }: Unsent): string => JSON.stringify(item);

/** Messages of one conversation go in order: a waiting one holds those after it. The terminal tells them apart by it too. */
export const conversationOf = (target: Target): string =>
  target.kind === 'dm' ? `dm ${nameKey(target.user)}` : target.kind === 'group' ? `group ${target.groupId}` : 'room';

/** The device has not started on this connection yet (or its start failed): a try waits for it. */
export class DeviceNotReady extends Error {}

/** Failures that say nothing about the message: it goes again, under the same client id. */
const TRANSIENT: ReadonlySet<string> = new Set(['DISCONNECTED', 'PROTOCOL_ERROR', 'CLOSED', 'TIMEOUT', ErrorCode.NOT_LOGGED_IN, ErrorCode.RATE_LIMITED, ErrorCode.INTERNAL, ErrorCode.EPOCH_TAKEN]);
const transient = (error: unknown): boolean => error instanceof DeviceNotReady || (error instanceof ClientError && TRANSIENT.has(error.code));


export interface OutboxDevice {
  /**
   * The history of the account signed in (or being signed in to), where its unsent messages are kept; null
   * without one. `create`: made if the account has none yet (a send), else null then.
   */
  history(create: boolean): DeviceHistory | null;
  /** Whether the link is logged in now, so that a try can go. */
  online(): boolean;
  /** Whether the host has the encrypted layer (known once logged in). */
  hostEncrypts(): boolean;
  /** The device of this connection; throws DeviceNotReady until it is. */
  messaging(): Promise<E2eeMessaging>;
}

export class EncryptedOutbox {
  /** The one run sending the queue, and whether another was asked for meanwhile. */
  private running: Promise<void> | null = null;
  private again = false;
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;
  /** Client ids already reported 'queued' by this run of the app. */
  private readonly announced = new Set<string>();
  /** Sent, refused or cancelled in this run of the app: not tried again, even if the history could not forget it. */
  private readonly finished = new Set<string>();
  /** Messages reported waiting for the other user's app (reported once), with why. */
  private readonly waiting = new Map<string, AppError>();
  /** Gone out in this run of the app, also if the history could not keep the mark (`kept.tried`). */
  private readonly tried = new Set<string>();
  /** The message being tried now, and when that try is over. */
  private trying: { clientMsgId: string; over: Promise<void> } | null = null;

  constructor(
    private readonly device: OutboxDevice,
    private readonly emit: (event: AppEvent) => void,
  ) {}

  /** Keeps the message on the device, then answers with its client id; it goes as soon as it can. */
  send(target: EncryptedTarget, text: string, replyTo: number | undefined, files: SealedFile[]): Result<{ clientMsgId: string }> {
    const history = this.device.history(true);
    if (history === null) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    const clientMsgId = randomUUID();
    const item: Unsent = { clientMsgId, target, text, ...(replyTo !== undefined ? { replyTo } : {}), files, ts: Date.now() };
    try {
      history.keepUnsent(clientMsgId, keptJson(item));
    } catch (error) {
      // Not kept, so not promised: the user still has the text and is told.
      return fail(AppErrorCode.E2EE_UNAVAILABLE, `Could not keep the message on this device to send it: ${messageOf(error)}`);
    }
    this.announce(item);
    this.kick();
    return ok({ clientMsgId });
  }

  /** The account's messages kept to send, as the windows show them. */
  list(history: DeviceHistory): UnsentMessage[] {
    return this.items(history).map((item) => {
      const { clientMsgId, target, text, replyTo } = item;
      const error = this.waiting.get(clientMsgId);
      return { clientMsgId, target, text, ...(replyTo !== undefined ? { replyTo } : {}), ...(error ? { error } : {}), ...(this.wentOut(item) ? { tried: true } : {}) };
    });
  }

  /**
   * The message left in an mlsSend (ChatClient 'sending'): the host may store it from now on, whatever
   * becomes of the answer, so it can no longer be cancelled. Kept so in the history, for the next start too.
   */
  sending(clientMsgId: string): void {
    // Only the message being tried can leave; other mlsSends (deletions, calls) cost no read of the history.
    if (this.trying?.clientMsgId !== clientMsgId) return;
    const history = this.device.history(false);
    const item = history === null ? undefined : this.keptItem(history, clientMsgId);
    if (history === null || item === undefined || this.wentOut(item)) return;
    this.tried.add(clientMsgId);
    try {
      history.rewriteUnsent(clientMsgId, keptJson({ ...item, tried: true }));
    } catch (error) {
      // Marked in memory all the same; after a restart it could be cancelled though the host may have it.
      console.error(`lanchat: could not update the encrypted messages to send: ${messageOf(error)}`);
    }
    this.report(item, 'queued');
  }

  /**
   * Forgets a message that has not gone out yet, at its sender's word; one being tried now once that try is
   * over. One that went out is not forgotten (MAYBE_SENT): it goes again, and the host's answer tells.
   */
  async cancel(clientMsgId: string): Promise<Result<void>> {
    while (this.trying?.clientMsgId === clientMsgId) await this.trying.over;
    const history = this.device.history(false);
    const item = history === null ? undefined : this.keptItem(history, clientMsgId);
    if (history === null || item === undefined) return NOT_UNSENT;
    if (this.wentOut(item)) return MAYBE_SENT;
    if (this.forget(history, item)) this.report(item, 'failed', { error: CANCELLED_BY_YOU });
    // The next of its conversation may go now, or say why it waits.
    this.kick();
    return ok(undefined);
  }

  /** Sends what is kept, unless a run is under way (it then looks again when done). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** The app stops: nothing more is tried or written (the history closes); what is kept goes at the next start. */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  private async run(): Promise<void> {
    try {
      await this.sendKept();
    } catch (error) {
      console.error(`lanchat: could not read the encrypted messages to send: ${messageOf(error)}`);
    }
  }

  private async sendKept(): Promise<void> {
    const history = this.device.history(false);
    if (history === null) return;
    for (const item of this.items(history)) this.announce(item);
    /** Conversations whose first message waits for the other user's app, in this run. */
    const held = new Set<string>();
    for (;;) {
      if (this.stopped || !this.device.online()) return;
      // The first kept of a conversation not held, read again each time: one at a time, in order.
      const next = this.items(history).find((item) => !held.has(conversationOf(item.target)));
      if (next === undefined) {
        this.failures = 0;
        return;
      }
      let over = (): void => undefined;
      this.trying = { clientMsgId: next.clientMsgId, over: new Promise((resolve) => (over = resolve)) };
      try {
        if (!this.device.hostEncrypts()) throw new E2eeUnavailable('This host has no end-to-end encryption: the message was not sent, in plain or otherwise');
        const messaging = await this.device.messaging();
        const message = await messaging.send(next.target, next.text, next.replyTo, next.clientMsgId, next.files, next.ts);
        if (this.stopped) return;
        this.failures = 0;
        if (!this.forget(history, next)) continue;
        this.report(next, 'sent', { message });
        if (messaging.history.deliveredUpTo(message.conv) >= message.id) this.report(next, 'delivered', { message });
      } catch (error) {
        if (this.stopped) return;
        if (transient(error)) {
          this.retryLater();
          return;
        }
        if (error instanceof NotReadyYet) {
          held.add(conversationOf(next.target));
          this.reportWaiting(next, error);
          continue;
        }
        if (this.forget(history, next)) this.report(next, 'failed', { error: describeRequestError(error) });
      } finally {
        this.trying = null;
        over();
      }
    }
  }

  /** Still queued, now with why: said once, the first time it cannot go for that reason. */
  private reportWaiting(item: Unsent, error: NotReadyYet): void {
    if (this.waiting.has(item.clientMsgId)) return;
    const why = { code: AppErrorCode.E2EE_WAITING, message: error.message, ...(error instanceof PeerNotReady ? { waitingFor: error.users } : {}) };
    this.waiting.set(item.clientMsgId, why);
    this.report(item, 'queued', { error: why });
  }

  /** Another try after a back-off, in case the link stays up (a reconnect tries at once). */
  private retryLater(): void {
    if (this.retry) return;
    this.failures++;
    // The plain outbox's back-off (client/outbox.ts): one promise to the user, one schedule.
    const wait = failedRetryMs(this.failures);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.kick();
    }, wait);
    this.retry.unref();
  }

  /** Sent or refused: no longer kept. Answers whether it still was (reported once). */
  private forget(history: DeviceHistory, item: Unsent): boolean {
    this.finished.add(item.clientMsgId);
    this.waiting.delete(item.clientMsgId);
    try {
      return history.forgetUnsent(item.clientMsgId);
    } catch (error) {
      // Sent again at the next start if kept after all: a stored one is answered as the duplicate it is.
      console.error(`lanchat: could not update the encrypted messages to send: ${messageOf(error)}`);
      return true;
    }
  }

  private items(history: DeviceHistory): Unsent[] {
    return history.unsent().flatMap(({ clientMsgId, item }) => {
      if (this.finished.has(clientMsgId)) return [];
      // One this app cannot read (a newer version's) stays for that version.
      const parsed = kept.safeParse(JSON.parse(item));
      return parsed.success ? [{ clientMsgId, ...parsed.data }] : [];
    });
  }

  private keptItem(history: DeviceHistory, clientMsgId: string): Unsent | undefined {
    return this.items(history).find((candidate) => candidate.clientMsgId === clientMsgId);
  }

  private announce(item: Unsent): void {
    if (this.announced.has(item.clientMsgId)) return;
    this.announced.add(item.clientMsgId);
    this.report(item, 'queued');
  }

  private wentOut(item: Unsent): boolean {
    return item.tried === true || this.tried.has(item.clientMsgId);
  }

  private report(item: Unsent, status: OutboxStatus, more: { message?: ChatMessage; error?: AppError } = {}): void {
    const { clientMsgId, target, text, replyTo } = item;
    const triedNote = status === 'queued' && this.wentOut(item) ? { tried: true as const } : {};
    this.emit({ type: 'outbox', clientMsgId, status, target, text, ...(replyTo !== undefined ? { replyTo } : {}), ts: Date.now(), ...more, ...triedNote });
  }
}
