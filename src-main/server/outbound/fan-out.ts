/**
 * Fan-out: how a push reaches every session it is for, with one interface and two strategies, a lone
 * host (LoneFanOut) and a cluster over the bus (ClusterFanOut). The Roster holds the sessions and
 * writes to them (LocalWriter); the fan-out decides when, and tells the other nodes.
 *
 * The rules, stated once (docs/ARCHITECTURE.md, "Order once the store waits" and "The bus"):
 * - Clients take message ids and event ids as cursors and skip anything at or below one they hold, so
 *   on every connection pushes that carry an event id go out in event id order, which is message id
 *   order too (a message and its event id are handed out in one transaction, in commit order).
 * - A send's answer goes out after every lower event id's push on that node and before any higher one
 *   (§10.3): a commit registers all its pushes and answers before any is released (`registering`).
 * - On a lone host everything that takes ids runs one at a time in ctx.publish, pushes included, so
 *   writing at once keeps the order. In a cluster a lower id committed on another node may still be on
 *   the bus while a higher one is ready here: pushes wait for it, and what does not come within
 *   GAP_WAIT_MS is read back from the database for this node's users in one read per range, after this
 *   node's own commits under way have registered (their ids are held then, so the range stops below).
 * - A group push carries the group as read after its commit; in a cluster each node reads the group
 *   again after writing one, so every node ends with the group as stored.
 */
import type { PushFrame, PushFrames } from '../../../src-shared/protocol/pushes.js';
import { encodeFrame } from '../../net/frame.js';
import type { AsyncStore } from '../../store/types.js';
import type { Bus, BusMessage } from '../bus.js';
import type { ServerLog } from '../log.js';
import { groupInfo } from '../lookups.js';
import { SerialQueue } from '../serial.js';
import type { Session } from '../session.js';

/**
 * In a cluster, how long a push waits for a lower event id still on its way from another node
 * before this node reads the missing events from the database itself.
 */
const GAP_WAIT_MS = 150;
/** Missing event ids read from the database at once. */
const GAP_BATCH = 100;

/** This node's sessions, as the Roster writes to them (after the presence announced so far). */
export interface LocalWriter {
  /** Every logged-in session of this node but `except`. */
  toAll(bytes: Buffer, messageId: number, except?: Session): void;
  /** This node's sessions of the users but `except`, encoding only if one is here. */
  to(userIds: Iterable<number>, encode: () => Buffer, messageId: number, except?: Session): void;
  /** The users logged in on this node. */
  users(): number[];
}

export interface FanOut {
  /** A push for the users `to` (everyone when null) but the session `except`, on every node, in event order. */
  push(to: number[] | null, frame: PushFrame, except?: Session): void;
  /** A group as it is now, for its members on every node. */
  pushGroup(members: number[], frame: PushFrames['group'], except?: Session): void;
  /** Runs `then` once the push of event `eventId` went out on this node, or at once if it already did. */
  afterPushed(eventId: number, then: () => void): void;
  /** Registers a commit's pushes and answers (`register` calls push and afterPushed) before any is released. */
  registering(register: () => void): void;
  /** A push another node published. */
  heard(message: Extract<BusMessage, { kind: 'push' }>): void;
  /** Every heartbeat of the bus. */
  heartbeat(): void;
  close(): void;
}

/** The event log entry a push carries (docs/PROTOCOL.md §17), 0 for none. */
function eventIdOf(frame: PushFrame): number {
  if (frame.type === 'message') return frame.eventId ?? 0;
  return frame.type === 'event' ? frame.event.eventId : 0;
}

function messageIdOf(frame: PushFrame): number {
  return frame.type === 'message' ? frame.message.id : 0;
}

/** A host alone: every push is written at once (ctx.publish already ran them in id order). */
export class LoneFanOut implements FanOut {
  constructor(private readonly writer: LocalWriter) {}

  push(to: number[] | null, frame: PushFrame, except?: Session): void {
    if (to === null) this.writer.toAll(encodeFrame(frame), messageIdOf(frame), except);
    else this.writer.to(to, () => encodeFrame(frame), messageIdOf(frame), except);
  }

  pushGroup(members: number[], frame: PushFrames['group'], except?: Session): void {
    this.writer.to(members, () => encodeFrame(frame), 0, except);
  }

  afterPushed(_eventId: number, then: () => void): void {
    then();
  }

  registering(register: () => void): void {
    register();
  }

  heard(): void {}

  heartbeat(): void {}

  close(): void {}
}

export interface ClusterFanOutOptions {
  bus: Bus;
  store: AsyncStore;
  log: ServerLog;
  /** The server's turns for what takes ids (ServerContext.publish): a read-back waits for those begun before it. */
  publish: SerialQueue;
}

/** Nodes on one database, over the bus: every push published, and written here in event id order. */
export class ClusterFanOut implements FanOut {
  /** The event id this node pushes next (0 until known); pushes of later events wait in `held`. */
  private nextEventId = 0;
  private readonly held = new Map<number, (() => void)[]>();
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
  /** The group push this node wrote last per group, and its reads of groups again, one at a time (pushGroup). */
  private readonly groupsWritten = new Map<number, Buffer>();
  private readonly groupReads = new SerialQueue();
  private closed = false;

  constructor(
    private readonly options: ClusterFanOutOptions,
    private readonly writer: LocalWriter,
  ) {}

  push(to: number[] | null, frame: PushFrame, except?: Session): void {
    // Published even when none of the users is known online elsewhere: one may have logged in on a
    // node whose word of it has not arrived yet.
    const bytes = encodeFrame(frame);
    const messageId = messageIdOf(frame);
    const eventId = eventIdOf(frame);
    this.options.bus.publish({ kind: 'push', to, bytes, messageId, eventId });
    this.inOrder(eventId, () => this.write(to, bytes, messageId, except));
  }

  /**
   * Two nodes may change one group at once, each reading it after its own commit, and the push of the
   * earlier read can reach a node after the later one's: so each node, once it has written a group
   * push, reads the group again, one read at a time, and writes it if it is not what that node wrote
   * last. The last read on a node comes after every change it heard of, each heard after its commit.
   */
  pushGroup(members: number[], frame: PushFrames['group'], except?: Session): void {
    const bytes = encodeFrame(frame);
    const groupId = frame.group.id;
    this.options.bus.publish({ kind: 'push', to: members, bytes, messageId: 0, eventId: 0, groupId });
    this.writeGroup(groupId, members, bytes, except);
  }

  afterPushed(eventId: number, then: () => void): void {
    this.whenPushed(eventId, then, true);
  }

  registering(register: () => void): void {
    this.registeringNow += 1;
    try {
      register();
    } finally {
      this.registeringNow -= 1;
    }
    this.release();
  }

  heard(message: Extract<BusMessage, { kind: 'push' }>): void {
    const { to, bytes, messageId, eventId, groupId } = message;
    if (groupId !== undefined && to !== null) this.writeGroup(groupId, to, bytes);
    else this.inOrder(eventId, () => this.write(to, bytes, messageId));
  }

  /**
   * An event whose push never came (its node died after the commit, or the publish failed) and that
   * no newer one reveals: noticed here, pushed after GAP_WAIT_MS unless its push comes meanwhile.
   * The first heartbeat also says where this node's pushes start: after what is stored.
   */
  heartbeat(): void {
    this.options.store.lastEventId().then(
      (last) => {
        if (this.nextEventId === 0) this.nextEventId = last + 1;
        else if (last >= this.nextEventId) this.storedUpTo = last;
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

  private write(to: number[] | null, bytes: Buffer, messageId: number, except?: Session): void {
    if (to === null) this.writer.toAll(bytes, messageId, except);
    else this.writer.to(to, () => bytes, messageId, except);
  }

  private writeGroup(groupId: number, to: number[], bytes: Buffer, except?: Session): void {
    const { store, log } = this.options;
    this.writer.to(to, () => bytes, 0, except);
    this.groupsWritten.set(groupId, bytes);
    void this.groupReads
      .run(async () => {
        const group = await store.groupById(groupId);
        if (!group) {
          this.groupsWritten.delete(groupId);
          return;
        }
        const again = encodeFrame({ type: 'group', group: await groupInfo(store, group) });
        if (this.groupsWritten.get(groupId)?.equals(again)) return;
        this.groupsWritten.set(groupId, again);
        this.writer.to(await store.memberIds(groupId), () => again, 0);
      })
      .catch((error: unknown) => log.error('group not read again', { group: groupId, error: String(error) }));
  }

  /** `write` once every lower event id was pushed on this node; dropped if its range was read back already. */
  private inOrder(eventId: number, write: () => void): void {
    this.whenPushed(eventId, write, false);
  }

  private whenPushed(eventId: number, then: () => void, evenIfLate: boolean): void {
    if (eventId === 0) {
      then();
      return;
    }
    if (this.nextEventId !== 0 && eventId < this.nextEventId) {
      if (evenIfLate) then();
      return;
    }
    const waiting = this.held.get(eventId);
    if (waiting) waiting.push(then);
    else this.held.set(eventId, [then]);
    this.release();
  }

  /** Runs what waits for the next ids in order; gives a missing one GAP_WAIT_MS. */
  private release(): void {
    if (this.nextEventId === 0 || this.fill || this.registeringNow > 0) return;
    for (let waiting = this.held.get(this.nextEventId); waiting; waiting = this.held.get(this.nextEventId)) {
      this.held.delete(this.nextEventId);
      this.nextEventId += 1;
      for (const then of waiting) then();
    }
    if (this.held.size > 0 || this.storedUpTo >= this.nextEventId) {
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
      const end = Math.min(this.held.size > 0 ? Math.min(...this.held.keys()) : this.storedUpTo + 1, first + GAP_BATCH);
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
    const seen = await this.options.store.eventsOfUsers(this.writer.users(), first - 1, end);
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
        this.writer.to([userId], encode, event.kind === 'message' ? event.message.id : 0);
      }
    }
    this.fill = null;
    this.options.log.warn('events read back for the bus', { from: first, to: end - 1 });
    const more = this.held.size > 0 ? !this.held.has(this.nextEventId) : this.storedUpTo >= this.nextEventId;
    if (more) this.fillGapIn(0);
    this.release();
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
