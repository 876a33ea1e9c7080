/**
 * The cluster's fan-out (fan-out.ts states the rules): nodes on one database, over the bus. Everything
 * a node says to the room is published and written here; what the others publish is written to this
 * node's sessions. Pushes that carry an event id go out in event id order (event-order.ts); who is
 * logged in on the other nodes is kept by other-nodes.ts. This is the only code that knows there may
 * be other nodes.
 */
import type { WireError } from '../../../src-shared/protocol/errors.js';
import type { PushFrame, PushFrames } from '../../../src-shared/protocol/pushes.js';
import { encodeFrame } from '../../net/frame.js';
import type { AsyncStore } from '../../store/types.js';
import { type Bus, type BusMessage, NODE_SILENT_HEARTBEATS } from '../bus.js';
import type { RoomClock } from '../clock.js';
import type { CallBusMessage } from '../call-state.js';
import type { EndHere, EndTarget } from '../end-target.js';
import type { ServerLog } from '../log.js';
import { groupInfo } from '../lookups.js';
import { OtherNodes } from '../other-nodes.js';
import { SerialQueue } from '../serial.js';
import type { Session } from '../session.js';
import type { ThrottleEvent } from '../throttle.js';
import { EventOrder } from './event-order.js';
import { type FanOut, type LocalNode, eventIdOf, messageIdOf } from './fan-out.js';

export interface ClusterFanOutOptions {
  /** Closed with the fan-out. */
  bus: Bus;
  store: AsyncStore;
  log: ServerLog;
  /** The server's turns for what takes ids (ServerContext.publish): a read-back waits for those begun before it. */
  publish: SerialQueue;
  /** The room's clock: when users of a node that went silent went offline. */
  clock: RoomClock;
  /** Closes what an `end` heard from another node names on this node. */
  endHere: EndHere;
  /** Puts a mute heard from another node in force here (RoomAccess.heardMute). */
  heardMute: (userId: number, until: number | null) => void;
  /** Counts here what another node counted against the room's throttles (RoomThrottles.heard). */
  heardThrottle: (event: ThrottleEvent) => void;
  /** Hands what another node said about calls to this node's calls (VoiceCalls.hear). */
  heardCall: (message: CallBusMessage) => void;
  /** Another node stopped or went silent (VoiceCalls.nodeGone). */
  nodeGone: (nodeId: string) => void;
}

export class ClusterFanOut implements FanOut {
  private readonly order: EventOrder;
  private readonly others: OtherNodes;
  /** The group push this node wrote last per group, and its reads of groups again, one at a time (pushGroup). */
  private readonly groupsWritten = new Map<number, Buffer>();
  private readonly groupReads = new SerialQueue();

  constructor(
    private readonly options: ClusterFanOutOptions,
    private readonly here: LocalNode,
  ) {
    this.order = new EventOrder(options, here);
    this.others = new OtherNodes(
      options.log,
      (userId, name, ts) => here.elsewhereChanged(userId, name, ts),
      (nodeId) => options.nodeGone(nodeId),
    );
    options.bus.receive(
      (message, from) => this.hear(message, from),
      () => this.beat(),
    );
  }

  push(to: number[] | null, frame: PushFrame, except?: Session): void {
    // Published even when none of the users is known online elsewhere: one may have logged in on a
    // node whose word of it has not arrived yet.
    const bytes = encodeFrame(frame);
    const messageId = messageIdOf(frame);
    const eventId = eventIdOf(frame);
    this.options.bus.publish({ kind: 'push', to, bytes, messageId, eventId });
    this.order.inOrder(eventId, () => this.write(to, bytes, messageId, except));
  }

  pushHere(to: number[], frame: PushFrame): void {
    this.write(to, encodeFrame(frame), messageIdOf(frame));
  }

  shareCall(message: CallBusMessage): void {
    this.options.bus.publish({ kind: 'call', call: message });
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
    this.order.afterPushed(eventId, then);
  }

  registering(register: () => void): void {
    this.order.registering(register);
  }

  end(target: EndTarget, reason: WireError, except?: Session): number {
    this.options.bus.publish({ kind: 'end', target, reason });
    return this.options.endHere(target, reason, except);
  }

  shareMute(userId: number, until: number | null): void {
    this.options.bus.publish({ kind: 'mute', userId, muted: until !== null, until: until === Infinity ? null : until });
  }

  shareThrottle(event: ThrottleEvent): void {
    this.options.bus.publish({ kind: 'throttle', event });
  }

  loggedIn(userId: number, name: string, online: boolean, ts: number): void {
    this.options.bus.publish({ kind: 'presence', userId, name, online, ts });
  }

  onlineElsewhere(userId: number): boolean {
    return this.others.has(userId);
  }

  anyoneElsewhere(me: number): boolean {
    return this.others.anyoneBut(me);
  }

  async close(): Promise<void> {
    this.order.close();
    this.options.bus.publish({ kind: 'gone' });
    await this.options.bus.close();
  }

  private write(to: number[] | null, bytes: Buffer, messageId: number, except?: Session): void {
    if (to === null) this.here.toAll(bytes, messageId, except);
    else this.here.to(to, () => bytes, messageId, except);
  }

  private writeGroup(groupId: number, to: number[], bytes: Buffer, except?: Session): void {
    const { store, log } = this.options;
    this.here.to(to, () => bytes, 0, except);
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
        this.here.to(await store.memberIds(groupId), () => again, 0);
      })
      .catch((error: unknown) => log.error('group not read again', { group: groupId, error: String(error) }));
  }

  /** Tells the others who is logged in here, and forgets the nodes silent for too long. */
  private beat(): void {
    const { bus, clock } = this.options;
    bus.publish({ kind: 'alive', users: this.here.users() });
    this.order.heartbeat();
    this.others.forgetSilent(NODE_SILENT_HEARTBEATS * bus.heartbeatMs, () => clock.now());
  }

  private hear(message: BusMessage, from: string): void {
    if (message.kind === 'gone') {
      this.others.forget(from, this.options.clock.now());
      return;
    }
    this.others.heard(from);
    switch (message.kind) {
      case 'push': {
        const { to, bytes, messageId, eventId, groupId } = message;
        if (groupId !== undefined && to !== null) this.writeGroup(groupId, to, bytes);
        else this.order.inOrder(eventId, () => this.write(to, bytes, messageId));
        return;
      }
      case 'presence':
        this.others.set(from, message.userId, message.name, message.online, message.ts);
        return;
      case 'alive':
        this.others.alive(from, message.users, this.options.clock.now());
        return;
      case 'end':
        this.options.endHere(message.target, message.reason);
        return;
      case 'mute':
        this.options.heardMute(message.userId, message.muted ? (message.until ?? Infinity) : null);
        return;
      case 'throttle':
        this.options.heardThrottle(message.event);
        return;
      case 'call':
        this.options.heardCall(message.call);
        return;
    }
  }
}
