/**
 * Fan-out: how what one node says reaches every session it is for, on every node of the room: pushes,
 * ends of sessions, mutes, and who is logged in where. One interface and two strategies, a lone host
 * (LoneFanOut, here) and a cluster over the bus (ClusterFanOut, cluster-fan-out.ts); server.ts picks
 * one, and nothing else knows which it is. The Roster holds this node's sessions and writes to them
 * (LocalNode); the fan-out decides when, and tells the other nodes.
 *
 * The rules, stated once (docs/ARCHITECTURE.md, "Order once the store waits", and docs/CLUSTER.md, "The bus"):
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
import type { WireError } from '../../../src-shared/protocol/errors.js';
import type { PushFrame, PushFrames } from '../../../src-shared/protocol/pushes.js';
import { encodeFrame } from '../../net/frame.js';
import type { CallBusMessage } from '../call-state.js';
import type { EndHere, EndTarget } from '../end-target.js';
import type { Session } from '../session.js';
import type { ThrottleEvent } from '../throttle.js';

/** This node's logged-in sessions, as the Roster writes to them (after the presence announced so far). */
export interface LocalNode {
  /** Every logged-in session of this node but `except`. */
  toAll(bytes: Buffer, messageId: number, except?: Session): void;
  /** This node's sessions of the users but `except`, encoding only if one is here. */
  to(userIds: Iterable<number>, encode: () => Buffer, messageId: number, except?: Session): void;
  /** The users logged in on this node, with their names. */
  users(): [id: number, name: string][];
  /** The user came online on another node, or is now online on none of the others. */
  elsewhereChanged(userId: number, name: string, ts: number): void;
}

export interface FanOut {
  /** A push for the users `to` (everyone when null) but the session `except`, on every node, in event order. */
  push(to: number[] | null, frame: PushFrame, except?: Session): void;
  /** A push for this node's sessions of the users only (what every node says for itself: a call whose home node went away). */
  pushHere(to: number[], frame: PushFrame): void;
  /** Tells the other nodes about calls (voice-calls.ts); they hand it to `heardCall`. */
  shareCall(message: CallBusMessage): void;
  /** A group as it is now, for its members on every node. */
  pushGroup(members: number[], frame: PushFrames['group'], except?: Session): void;
  /** Runs `then` once the push of event `eventId` went out on this node, or at once if it already did. */
  afterPushed(eventId: number, then: () => void): void;
  /** Registers a commit's pushes and answers (`register` calls push and afterPushed) before any is released. */
  registering(register: () => void): void;
  /**
   * Closes the sessions and transfers of the target with the reason, on this node and every other.
   * Returns how many sessions this node closed (the others close theirs as they hear of it).
   */
  end(target: EndTarget, reason: WireError, except?: Session): number;
  /** Puts a mute (until when, Infinity: until lifted; null: none) in force on the other nodes too. */
  shareMute(userId: number, until: number | null): void;
  /** Counts what this node counted against the room's throttles on the other nodes too. */
  shareThrottle(event: ThrottleEvent): void;
  /** This node's first session of the user logged in, or its last one closed (at `ts`). */
  loggedIn(userId: number, name: string, online: boolean, ts: number): void;
  /** Whether the user is logged in on another node. */
  onlineElsewhere(userId: number): boolean;
  /** Whether anyone but `me` is logged in on another node. */
  anyoneElsewhere(me: number): boolean;
  /** Stops, telling the other nodes (they take this node's users offline at once). */
  close(): Promise<void>;
}

/** The event log entry a push carries (docs/PROTOCOL.md §17), 0 for none. */
export function eventIdOf(frame: PushFrame): number {
  if (frame.type === 'message') return frame.eventId ?? 0;
  return frame.type === 'event' ? frame.event.eventId : 0;
}

export function messageIdOf(frame: PushFrame): number {
  return frame.type === 'message' ? frame.message.id : 0;
}

/** A host alone: every push is written at once (ctx.publish already ran them in id order); nobody else to tell. */
export class LoneFanOut implements FanOut {
  constructor(
    private readonly here: LocalNode,
    private readonly endHere: EndHere,
  ) {}

  push(to: number[] | null, frame: PushFrame, except?: Session): void {
    if (to === null) this.here.toAll(encodeFrame(frame), messageIdOf(frame), except);
    else this.here.to(to, () => encodeFrame(frame), messageIdOf(frame), except);
  }

  pushHere(to: number[], frame: PushFrame): void {
    this.push(to, frame);
  }

  shareCall(): void {}

  pushGroup(members: number[], frame: PushFrames['group'], except?: Session): void {
    this.here.to(members, () => encodeFrame(frame), 0, except);
  }

  afterPushed(_eventId: number, then: () => void): void {
    then();
  }

  registering(register: () => void): void {
    register();
  }

  end(target: EndTarget, reason: WireError, except?: Session): number {
    return this.endHere(target, reason, except);
  }

  shareMute(): void {}

  shareThrottle(): void {}

  loggedIn(): void {}

  onlineElsewhere(): boolean {
    return false;
  }

  anyoneElsewhere(): boolean {
    return false;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
