/**
 * The terminal's direct messages to someone whose client cannot receive end-to-end encrypted messages
 * yet (PeerNotReady: not signed in since it became a device, or an older version). As the app's encrypted
 * outbox does, each is kept, in order, and goes when the host says a device of theirs can be added
 * (`deviceReady`, PROTOCOL §20.3) or after a reconnect; a later DM to them waits behind it. They are kept
 * while the terminal runs: /cancel drops them, and quitting says which never went.
 */
import { nameKey } from '../../src-shared/protocol/names.js';
import { PeerNotReady } from '../core/e2ee-messaging.js';
import { messageOf } from '../core/errors.js';

interface Waiting {
  user: string;
  text: string;
  replyTo?: number;
}

export class WaitingDms {
  /** Per user (name key), their messages in the order written. */
  private readonly byUser = new Map<string, Waiting[]>();
  /** Users whose messages are being tried, and those told ready again meanwhile. */
  private readonly trying = new Set<string>();
  private readonly readyAgain = new Set<string>();

  constructor(
    private readonly trySend: (user: string, text: string, replyTo?: number) => Promise<void>,
    private readonly print: (line: string) => void,
  ) {}

  /** Sends a DM now, or keeps it: when their client cannot receive it yet, or earlier ones to them wait. */
  async send(user: string, text: string, replyTo?: number): Promise<void> {
    const message = { user, text, ...(replyTo !== undefined ? { replyTo } : {}) };
    const queue = this.byUser.get(nameKey(user));
    if (queue) {
      queue.push(message);
      this.print(`*** waits behind your earlier message to ${user}`);
      return;
    }
    try {
      await this.trySend(user, text, replyTo);
    } catch (error) {
      if (!(error instanceof PeerNotReady)) throw error;
      this.byUser.set(nameKey(user), [message]);
      this.print(`*** ${user}'s client cannot receive end-to-end encrypted messages yet: this goes once it can (/cancel ${user} drops it)`);
    }
  }

  /** A device of `user`'s can be added now: what waits for them goes, in order, until one cannot. */
  async ready(user: string): Promise<void> {
    const key = nameKey(user);
    if (this.trying.has(key)) {
      this.readyAgain.add(key);
      return;
    }
    this.trying.add(key);
    try {
      for (;;) {
        this.readyAgain.delete(key);
        const queue = this.byUser.get(key);
        const next = queue?.[0];
        if (!queue || !next) {
          this.byUser.delete(key);
          return;
        }
        try {
          await this.trySend(next.user, next.text, next.replyTo);
          this.print(`*** went to ${next.user}: ${next.text}`);
        } catch (error) {
          // Still not ready (its key packages already claimed, say): the next telling tries again.
          if (error instanceof PeerNotReady) {
            if (this.readyAgain.has(key)) continue;
            return;
          }
          this.print(`! not sent to ${next.user}: ${messageOf(error)}: ${next.text}`);
        }
        // By identity: a /cancel during the try emptied the queue, and later ones may wait in it since.
        const at = queue.indexOf(next);
        if (at >= 0) queue.splice(at, 1);
      }
    } finally {
      this.trying.delete(key);
    }
  }

  /** After a reconnect: a device may have become ready while the link was down, its push missed. */
  retryAll(): void {
    for (const [first] of this.byUser.values()) if (first) void this.ready(first.user);
  }

  /** /cancel <name>: drops what waits for them (one being sent now may still go). */
  cancel(user: string): void {
    const key = nameKey(user);
    const dropped = this.byUser.get(key)?.splice(0) ?? [];
    if (!this.trying.has(key)) this.byUser.delete(key);
    this.print(dropped.length === 0 ? `*** nothing waits to go to ${user}` : `*** dropped ${dropped.length} waiting for ${user}: ${dropped.map((m) => m.text).join(' | ')}`);
  }

  /** What never went, to say when the terminal quits. */
  unsent(): string[] {
    return [...this.byUser.values()].flat().map(({ user, text }) => `${user}~${text}`);
  }
}
