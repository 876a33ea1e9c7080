/**
 * The messages given to send() and not yet stored or refused, kept in the profile's outbox.json per
 * server and account, written before they go: the next start hands them to its ChatClient under the
 * same client ids (a host that stored one answers with it, PROTOCOL.md §7.4), and the windows are shown
 * them as sending meanwhile. Their progress goes out as 'outbox' events.
 */
import { randomUUID } from 'node:crypto';
import type { AppError, AppEvent, OutboxStatus, Result, UnsentMessage } from '../../src-shared/api.js';
import type { AttachmentRef, ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import type { OutboxItem } from '../client/outbox.js';
import { CANCELLED_BY_YOU, describeRequestError, MAYBE_SENT, messageOf, NOT_UNSENT, ok } from './errors.js';
import { OutboxFile } from './profile-files.js';

export class UnsentMessages {
  private readonly file: OutboxFile;

  constructor(
    profileDir: string,
    private readonly emit: (event: AppEvent) => void,
  ) {
    this.file = new OutboxFile(profileDir);
  }

  /** What a new client of the account on the server `key` sends again. */
  itemsFor(key: string, name: string): OutboxItem[] {
    return this.file.itemsFor(key, name);
  }

  /** The account's messages not stored yet, as the windows show them. */
  list(key: string, name: string): UnsentMessage[] {
    return this.file.itemsFor(key, name).map(({ clientMsgId, to, text, replyTo, tried }) => ({
      clientMsgId,
      target: to,
      text,
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(tried ? { tried } : {}),
    }));
  }

  /** Queues a message on the client, kept in the profile until stored or refused. */
  send(client: ChatClient, key: string, name: string, target: Target, text: string, replyTo?: number, attachments?: AttachmentRef[]): Result<{ clientMsgId: string }> {
    const clientMsgId = randomUUID();
    const item: OutboxItem = { clientMsgId, to: target, text, ...(replyTo !== undefined ? { replyTo } : {}), ...(attachments ? { attachments } : {}) };
    try {
      this.file.add(key, name, item);
    } catch (error) {
      console.error(`lanchat: could not keep a message to send in the profile (it goes while the app runs): ${messageOf(error)}`);
    }
    // Progress arrives as events, a refusal by the host as 'sendFailed'. The promise matters only for a
    // message the client refused itself; one dropped because the client closed stays for the next connect.
    client.send(target, text, clientMsgId, replyTo, attachments).catch((error: unknown) => {
      // Closed: it stays for the next connect; cancelled: cancel() reports it.
      if (error instanceof ClientError && (error.code === 'CLOSED' || error.code === 'CANCELLED')) return;
      if (this.forget(key, name, clientMsgId)) this.emitOutbox(item, 'failed', Date.now(), { error: describeRequestError(error) });
    });
    return ok({ clientMsgId });
  }

  /**
   * Gives up on one of the account's messages not stored yet (the client's, when connected): it ends as
   * 'failed', CANCELLED. One on its way is waited for, and not cancelled if the host stored it meanwhile.
   */
  async cancel(client: ChatClient | null, key: string, name: string, clientMsgId: string): Promise<Result<void>> {
    if (!this.file.find(key, name, clientMsgId)) return NOT_UNSENT;
    const outcome = client ? await client.cancelSend(clientMsgId) : undefined;
    // Gone from the file: it was stored or refused meanwhile. Still there after 'gone': the client never held it.
    const item = this.file.find(key, name, clientMsgId);
    if (!item) return NOT_UNSENT;
    if (outcome === 'maybe stored' || (outcome !== 'cancelled' && item.tried)) return MAYBE_SENT;
    this.forget(key, name, clientMsgId);
    this.emitOutbox(item, 'failed', Date.now(), { error: CANCELLED_BY_YOU });
    return ok(undefined);
  }

  /** Turns the client's progress on the account's messages into outbox events, for as long as it lives. */
  follow(client: ChatClient, key: string, name: string): void {
    client.on('queued', (item) => this.emitOutbox(item, 'queued', Date.now()));
    client.on('sending', ({ clientMsgId }) => {
      try {
        this.file.markTried(key, name, clientMsgId);
      } catch (error) {
        // Marked in memory all the same; after a restart it could be cancelled though the host may have it.
        console.error(`lanchat: could not update the messages to send in the profile: ${messageOf(error)}`);
      }
      // The windows stop offering to cancel it.
      const item = this.file.find(key, name, clientMsgId);
      if (item) this.emitOutbox(item, 'queued', Date.now());
    });
    client.on('sendRetrying', ({ clientMsgId, error }) => {
      const item = this.file.find(key, name, clientMsgId);
      if (item) this.emitOutbox(item, 'queued', Date.now(), { error: describeRequestError(error) });
    });
    client.on('sent', ({ clientMsgId, message, delivered }) => {
      const item = this.file.find(key, name, clientMsgId);
      if (!item || !this.forget(key, name, clientMsgId)) return;
      this.emitOutbox(item, 'sent', message.ts, { message });
      if (delivered) this.emitOutbox(item, 'delivered', message.ts, { message });
    });
    client.on('sendFailed', ({ clientMsgId, error }) => {
      const item = this.file.find(key, name, clientMsgId);
      if (!item || !this.forget(key, name, clientMsgId)) return;
      this.emitOutbox(item, 'failed', Date.now(), { error: describeRequestError(error) });
    });
  }

  private emitOutbox({ clientMsgId, to, text, replyTo, tried }: OutboxItem, status: OutboxStatus, ts: number, more: { error?: AppError; message?: ChatMessage } = {}): void {
    const triedNote = status === 'queued' && tried ? { tried } : {};
    this.emit({ type: 'outbox', clientMsgId, status, target: to, text, ...(replyTo !== undefined ? { replyTo } : {}), ts, ...more, ...triedNote });
  }

  /** Stored or refused for good: not sent again. Answers whether it was still held (reported once). */
  private forget(key: string, name: string, clientMsgId: string): boolean {
    try {
      return this.file.remove(key, name, clientMsgId);
    } catch (error) {
      // Gone from memory all the same; sent again at the next start, a stored one is answered as the duplicate it is.
      console.error(`lanchat: could not update the messages to send in the profile: ${messageOf(error)}`);
      return true;
    }
  }
}
