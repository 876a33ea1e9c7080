/**
 * Messages given to send() until the server stored them or refused them for good.
 * Each goes once per link and waits there for its answer, however late (the link's
 * heartbeat decides when a link is dead); it goes again on the next link (the server
 * recognises resends by their client id). One refused for its rate goes again after
 * the wait, one the host failed (INTERNAL) goes again with back-off.
 */
import type { AttachmentRef, ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { RequestResults } from '../../src-shared/protocol/requests.js';
import { ClientError } from './errors.js';

export interface OutboxItem {
  clientMsgId: string;
  to: Target;
  text: string;
  /** The id of the message this one answers. */
  replyTo?: number;
  /** Uploaded files the message carries (docs/PROTOCOL.md §18). */
  attachments?: AttachmentRef[];
  /** It went out on a link at least once: the host may have stored it, so it can no longer be cancelled. */
  tried?: true;
}

interface Queued extends OutboxItem {
  /** Sent on the current link, answer awaited. */
  inFlight: boolean;
  /** While it is in flight: settles once its answer (or the link's end) is dealt with. */
  tryOver?: Promise<void>;
  resolve: (message: ChatMessage) => void;
  reject: (error: ClientError) => void;
}

/** Wait before resending after RATE_LIMITED when the server gave no time. */
export const RATE_LIMIT_RETRY_MS = 1000;
/** Back-off after the server failed a send (INTERNAL): doubles from the first to the cap, with jitter. */
const FAILED_RETRY_FIRST_MS = 250;
const FAILED_RETRY_CAP_MS = 30_000;

/** The wait before another try after `failures` failed ones in a row (≥ 1): half to all of the doubled back-off. */
export function failedRetryMs(failures: number): number {
  const backoff = Math.min(FAILED_RETRY_CAP_MS, FAILED_RETRY_FIRST_MS * 2 ** (failures - 1));
  return backoff / 2 + Math.random() * (backoff / 2);
}

/** The link ended before an answer (or the client closed, which then rejects what it holds): no refusal. */
const LINK_ENDED: ReadonlySet<string> = new Set(['DISCONNECTED', 'PROTOCOL_ERROR', 'CLOSED']);

export interface OutboxLink {
  /** Sends the item on the current link, or answers null when there is none. */
  send(item: OutboxItem): Promise<RequestResults['send']> | null;
  /** Whether the link is up, so that items can go now. */
  online(): boolean;
  queued(item: OutboxItem): void;
  /** The item goes out for the first time: from now on the host may store it (OutboxItem.tried). */
  sending(item: OutboxItem): void;
  sent(item: OutboxItem, result: RequestResults['send']): void;
  refused(item: OutboxItem, error: ClientError): void;
  /** The host failed the item (INTERNAL): it goes again under the same client id after `delayMs`. */
  retrying(item: OutboxItem, error: ClientError, delayMs: number): void;
}

export class Outbox {
  private readonly queue: Queued[] = [];
  /** Resends the queue after the server refused sends for their rate. */
  private resendTimer: NodeJS.Timeout | null = null;
  private resendAt = 0;
  /** Rounds of resends in a row that the server failed; reset once one is stored. */
  private failures = 0;

  constructor(private readonly link: OutboxLink) {}

  /** Messages accepted but not yet acknowledged by the server. */
  get items(): OutboxItem[] {
    return this.queue.map(({ clientMsgId, to, text, replyTo, attachments, tried }) => ({
      clientMsgId,
      to,
      text,
      ...(replyTo !== undefined ? { replyTo } : {}),
      ...(attachments ? { attachments } : {}),
      ...(tried ? { tried } : {}),
    }));
  }

  /** Whether the message is queued, not yet answered as stored or refused. */
  holds(clientMsgId: string): boolean {
    return this.queue.some((item) => item.clientMsgId === clientMsgId);
  }

  /** Queues a message; resolves with it once stored, rejects if it is refused for good. */
  add(item: OutboxItem): Promise<ChatMessage> {
    return new Promise((resolve, reject) => {
      const queued: Queued = { ...item, inFlight: false, resolve, reject };
      this.queue.push(queued);
      this.link.queued(item);
      if (this.link.online()) void this.transmit(queued);
    });
  }

  /**
   * Gives up on a message that never went out: it never will, and its promise rejects with CANCELLED. One
   * on its way is waited for: it may be stored ('gone', as one refused meanwhile or never held), or its link
   * may end first, leaving it 'maybe stored' (as one that went out on an earlier link): it goes again then,
   * and the host's answer tells.
   */
  async cancel(clientMsgId: string): Promise<'cancelled' | 'gone' | 'maybe stored'> {
    let item = this.queue.find((candidate) => candidate.clientMsgId === clientMsgId);
    while (item?.tryOver) {
      await item.tryOver;
      item = this.queue.find((candidate) => candidate.clientMsgId === clientMsgId);
    }
    if (!item) return 'gone';
    if (item.tried) return 'maybe stored';
    this.remove(item);
    item.reject(new ClientError('CANCELLED', 'the message was cancelled before it went out'));
    return 'cancelled';
  }

  /** Sends everything not already on its way, in order (the link just came up). */
  flush(): void {
    for (const item of this.queue) void this.transmit(item);
  }

  /** The link dropped: nothing is on its way any more. */
  unlinked(): void {
    for (const item of this.queue) item.inFlight = false;
  }

  /** Rejects everything queued (the client closed). */
  drop(error: ClientError): void {
    this.stop();
    for (const item of this.queue.splice(0)) item.reject(error);
  }

  stop(): void {
    if (this.resendTimer) clearTimeout(this.resendTimer);
    this.resendTimer = null;
  }

  private async transmit(item: Queued): Promise<void> {
    if (item.inFlight) return;
    const sending = this.link.send(item);
    if (!sending) return;
    item.inFlight = true;
    if (!item.tried) {
      item.tried = true;
      this.link.sending(item);
    }
    let over = (): void => undefined;
    const tryOver = new Promise<void>((resolve) => (over = resolve));
    item.tryOver = tryOver;
    try {
      const result = await sending;
      this.failures = 0;
      this.remove(item);
      this.link.sent(item, result);
      item.resolve(result.message);
    } catch (error) {
      item.inFlight = false;
      const clientError = error instanceof ClientError ? error : new ClientError('DISCONNECTED', String(error));
      if (clientError.code === ErrorCode.RATE_LIMITED) {
        // Not stored: it stays queued and goes again once the server can take it.
        this.resendLater(clientError.retryAfterMs ?? RATE_LIMIT_RETRY_MS);
      } else if (clientError.code === ErrorCode.INTERNAL) {
        // The host failed (its database stalled, say), nothing was refused: the same client id goes again.
        // One failure per round of resends: the others of the round go with the timer this one set.
        if (!this.resendTimer) this.failures++;
        const delayMs = this.resendLater(failedRetryMs(this.failures));
        this.link.retrying(item, clientError, delayMs);
      } else if (!LINK_ENDED.has(clientError.code)) {
        // The server answered with a refusal: sending it again would be refused again.
        this.remove(item);
        this.link.refused(item, clientError);
        item.reject(clientError);
      }
    } finally {
      // A try on a later link may have begun before this one's end was known: its wait is its own.
      if (item.tryOver === tryOver) delete item.tryOver;
      over();
    }
  }

  /** One timer for every refused send, so they go again together and in order; answers the wait until it fires. */
  private resendLater(delayMs: number): number {
    if (this.resendTimer) return Math.max(0, this.resendAt - Date.now());
    this.resendAt = Date.now() + delayMs;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = null;
      if (this.link.online()) this.flush();
    }, delayMs);
    return delayMs;
  }

  private remove(item: Queued): void {
    const index = this.queue.indexOf(item);
    if (index >= 0) this.queue.splice(index, 1);
  }
}
