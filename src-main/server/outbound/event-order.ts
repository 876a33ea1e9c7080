/**
 * In a cluster, the pushes that carry an event id written on this node in event id order, whichever
 * node committed them (the rules: fan-out.ts), with the events whose push never comes read back from
 * the database. The cluster's fan-out (cluster-fan-out.ts) hands every such write here.
 */
import type { PushFrame } from '../../../src-shared/protocol/pushes.js';
import { encodeFrame } from '../../net/frame.js';
import type { AsyncStore } from '../../store/types.js';
import type { ServerLog } from '../log.js';
import type { SerialQueue } from '../serial.js';
import type { LocalNode } from './fan-out.js';

/**
 * How long a push waits for a lower event id still on its way from another node before this node
 * reads the missing events from the database itself.
 */
const GAP_WAIT_MS = 150;
/** Missing event ids read from the database at once. */
const GAP_BATCH = 100;

export interface EventOrderOptions {
  store: AsyncStore;
  log: ServerLog;
  /** The server's turns for what takes ids (ServerContext.publish): a read-back waits for those begun before it. */
  publish: SerialQueue;
}

export class EventOrder {
  /** The event id this node pushes next (0 until known); pushes of later events wait in `held`. */
  private nextEventId = 0;
  private readonly held = new Map<number, (() => void)[]>();
  /**
   * Answers waiting until the push of their event went out here (afterPushed). Apart from `held`: an
   * answer is not that event's push. Counted as one, a duplicate's answer (its message stored through
   * another node) moved nextEventId past the push still on its way, which was then dropped as late.
   */
  private readonly answers = new Map<number, (() => void)[]>();
  /** The newest event id in the database at the last heartbeat: pushed up to even when nothing newer comes. */
  private storedUpTo = 0;
  private gapTimer: NodeJS.Timeout | null = null;
  /** A read-back under way, or one whose read failed, to read again: its range (see fillGap). */
  private fill: { first: number; end: number } | null = null;
  /**
   * A read-back is running (waiting for this node's commits, or reading): a gap timer set before it
   * took its range may fire meanwhile, and must not read that range a second time. A second read
   * ended after the first would end the next fill's range early (fill = null) and let higher ids
   * overtake it, which clients then drop as already seen.
   */
  private filling = false;
  /** Commits registering their pushes and answers now: nothing is released meanwhile (registering). */
  private registeringNow = 0;
  private closed = false;

  constructor(
    private readonly options: EventOrderOptions,
    private readonly here: LocalNode,
  ) {}

  /** `write` once every lower event id was pushed on this node; dropped if its range was read back already. */
  inOrder(eventId: number, write: () => void): void {
    if (eventId === 0) {
      write();
      return;
    }
    if (this.nextEventId !== 0 && eventId < this.nextEventId) return;
    const waiting = this.held.get(eventId);
    if (waiting) waiting.push(write);
    else this.held.set(eventId, [write]);
    this.release();
  }

  /**
   * Runs `then` once the push of event `eventId` went out on this node (before any higher id's), or at
   * once if it already did; a range read back meanwhile counts once it is written.
   */
  afterPushed(eventId: number, then: () => void): void {
    const passed = this.nextEventId !== 0 && eventId < (this.fill ? this.fill.first : this.nextEventId);
    if (eventId === 0 || passed) {
      then();
      return;
    }
    const waiting = this.answers.get(eventId);
    if (waiting) waiting.push(then);
    else this.answers.set(eventId, [then]);
    this.release();
  }

  /** Registers a commit's pushes and answers before any is released (FanOut.registering). */
  registering(register: () => void): void {
    this.registeringNow += 1;
    try {
      register();
    } finally {
      this.registeringNow -= 1;
    }
    this.release();
  }

  /**
   * An event whose push never came (its node died after the commit, or the publish failed) and that
   * no newer one reveals: noticed here, pushed after GAP_WAIT_MS unless its push comes meanwhile.
   * The first heartbeat also says where this node's pushes start: after what is stored.
   */
  heartbeat(): void {
    this.options.store.lastEventId().then(
      (last) => {
        if (this.nextEventId === 0) {
          this.nextEventId = last + 1;
          // Pushes heard before the node knew where to start are in the database, for the logins to read.
          for (const id of this.held.keys()) if (id < this.nextEventId) this.held.delete(id);
        } else if (last >= this.nextEventId) this.storedUpTo = last;
        else return;
        this.release();
      },
      // The database is unreachable: the node goes on serving what it can, the next heartbeat asks again.
      (error: unknown) => this.options.log.error('newest event id not read', { error: String(error) }),
    );
  }

  close(): void {
    this.closed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
  }

  /** Runs what waits for the next ids in order; gives a missing one GAP_WAIT_MS. */
  private release(): void {
    if (this.nextEventId === 0 || this.fill || this.registeringNow > 0) return;
    this.answerBelow(this.nextEventId);
    for (let waiting = this.held.get(this.nextEventId); waiting; waiting = this.held.get(this.nextEventId)) {
      const id = this.nextEventId;
      this.held.delete(id);
      this.nextEventId += 1;
      for (const then of waiting) then();
      // Every id passes here one at a time: its answers go right after its push, before the next id's.
      const answers = this.answers.get(id);
      this.answers.delete(id);
      for (const then of answers ?? []) then();
    }
    if (this.held.size > 0 || this.answers.size > 0 || this.storedUpTo >= this.nextEventId) {
      this.fillGapIn(GAP_WAIT_MS);
    } else if (this.gapTimer) {
      clearTimeout(this.gapTimer);
      this.gapTimer = null;
    }
  }

  /**
   * Pushes the events missing below the lowest held one (or up to storedUpTo), GAP_BATCH ids per read, one
   * read for every logged-in user of this node (store.eventsOfUsers: who may see an event, a read position
   * or a group's message, is the log's to say), so a read-back costs the node, not each user.
   */
  private async fillGap(): Promise<void> {
    this.gapTimer = null;
    if (this.filling) return;
    this.filling = true;
    try {
      await this.fillOnce();
    } finally {
      this.filling = false;
    }
  }

  private async fillOnce(): Promise<void> {
    if (!this.fill) {
      // Every commit this node began first registers its pushes: its ids are held then, so the range stops
      // below them. Read back, this node's own message would reach its sender as a push, and ahead of a
      // higher id's push the answer would then come after (§10.3).
      await this.options.publish.run(() => undefined);
      const first = this.nextEventId;
      // An answer waits for an event that is stored (a duplicate's message): the range may end after it.
      const ahead = [...this.held.keys(), ...[...this.answers.keys()].map((id) => id + 1)];
      const end = Math.min(ahead.length > 0 ? Math.min(...ahead) : this.storedUpTo + 1, first + GAP_BATCH);
      if (end <= first) {
        // What was missing came while the commits were awaited.
        this.release();
        return;
      }
      // From here the range is this fill's: a push of it that comes meanwhile is not written twice, and later
      // ones wait until the range is written (a client drops an event older than one it has). A read that
      // fails leaves the fill where it was, to read the same range again.
      this.nextEventId = end;
      this.fill = { first, end };
    }
    const { first, end } = this.fill;
    const seen = await this.options.store.eventsOfUsers(this.here.users().map(([id]) => id), first - 1, end);
    // An event reads the same to everyone who may see it: encoded once.
    const encoded = new Map<number, Buffer>();
    for (const [userId, events] of seen) {
      for (const event of events) {
        const encode = (): Buffer => {
          let bytes = encoded.get(event.eventId);
          if (!bytes) {
            const frame: PushFrame = event.kind === 'message' ? { type: 'message', message: event.message, eventId: event.eventId } : { type: 'event', event };
            bytes = encodeFrame(frame);
            encoded.set(event.eventId, bytes);
          }
          return bytes;
        };
        this.here.to([userId], encode, event.kind === 'message' ? event.message.id : 0);
      }
    }
    this.fill = null;
    this.answerBelow(end);
    this.options.log.warn('events read back for the bus', { from: first, to: end - 1 });
    const more = this.held.size > 0 ? !this.held.has(this.nextEventId) : this.answers.size > 0 || this.storedUpTo >= this.nextEventId;
    if (more) this.fillGapIn(0);
    this.release();
  }

  /** Sends the answers waiting for events below `end`, in event order. */
  private answerBelow(end: number): void {
    if (this.answers.size === 0) return;
    for (const id of [...this.answers.keys()].sort((a, b) => a - b)) {
      if (id >= end) return;
      const waiting = this.answers.get(id)!;
      this.answers.delete(id);
      for (const then of waiting) then();
    }
  }

  /** Runs fillGap after `delayMs`; when the database fails it (down, say), again after GAP_WAIT_MS, not thrown. */
  private fillGapIn(delayMs: number): void {
    if (this.closed) return;
    this.gapTimer ??= setTimeout(() => {
      this.fillGap().catch((error: unknown) => {
        this.options.log.error('events not read back for the bus', { error: String(error) });
        this.fillGapIn(GAP_WAIT_MS);
      });
    }, delayMs).unref();
  }
}
