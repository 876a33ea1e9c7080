/**
 * The calls of the room (issue 39, docs/PROTOCOL.md §21): who takes part in which call, the rules the
 * host enforces (one call per conversation, the mesh limit, a connection in one call at a time, the ring
 * and the reconnect grace), the relay of signals between endpoints, and the line each call leaves in
 * its conversation. Media never comes here.
 *
 * State is held in memory, by one node per call: its home, the node its callStart reached. A call ends
 * with the room's restart. In a cluster (docs/CLUSTER.md, "Calls") every change of a call is made by its
 * home, asked over the bus by the node of the connection that asks (CallOp), and every node keeps a copy
 * of every call (CallState) to route signals to the node of the endpoint addressed and to answer `calls`.
 * On a lone host the home is always this node and nothing crosses.
 */
import { randomBytes } from 'node:crypto';
import type { CallInfo, CallSignal } from '../../src-shared/protocol/calls.js';
import { callReaders, writeCallLine } from './call-lines.js';
import { type CallBusMessage, type CallOp, type CallState, type OpResult, callInfo } from './call-state.js';
import { CallTimers } from './call-timers.js';
import { type ConversationKey, conversationKind } from '../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { CallEvent } from '../../src-shared/protocol/objects.js';
import type { PushFrames } from '../../src-shared/protocol/pushes.js';
import type { AsyncStore } from '../store/types.js';
import type { RoomLimits } from './access.js';
import type { RoomClock } from './clock.js';
import { ServerError } from './errors.js';
import type { ServerLog } from './log.js';
import type { FanOut } from './outbound/fan-out.js';
import { TokenBucket } from './rate-limit.js';
import { SerialQueue } from './serial.js';
import type { Session } from './session.js';

export interface VoiceCallsOptions {
  store: AsyncStore;
  fanOut: FanOut;
  clock: RoomClock;
  log: ServerLog;
  limits: RoomLimits;
  /** Everything that takes message ids, one at a time (ServerContext.publish): a call's line takes one. */
  publish: SerialQueue;
  /** This node's id in a cluster; a lone host's is its own. */
  nodeId: string;
}

/** The id of a new call or endpoint: 128 random bits, so nobody can guess one (§21.1). */
export function newCallId(): string {
  return randomBytes(16).toString('base64url');
}

/** How long a node waits for a call's home to answer an op before it answers the client UNKNOWN_CALL. */
const OP_TIMEOUT_MS = 10_000;

export class VoiceCalls {
  /** Every call not ended that this node knows of, its own and (in a cluster) the others' copies. */
  private readonly calls = new Map<string, CallState>();
  /** The calls this node is home of: their timers (ring, and each endpoint's grace). */
  private readonly timers = new CallTimers();
  /** This node's connections in calls: each in one call at a time, with one endpoint. */
  private readonly bySession = new Map<Session, { callId: string; endpoint: string }>();
  private readonly byEndpoint = new Map<string, Session>();
  /** Each connection's signals (callSignal rate). */
  private readonly signalBuckets = new WeakMap<Session, TokenBucket>();
  /** A call's pushes leave in the order of its changes (a group's readers are read first). */
  private readonly announcing = new SerialQueue();
  /** Ops sent to another node's call, waiting for its reply. */
  private readonly waiting = new Map<number, (result: OpResult) => void>();
  private nextReqId = 1;
  /** Publishes on the bus; null on a lone host (ClusterFanOut sets it). */
  private share: ((message: CallBusMessage) => void) | null = null;

  constructor(private readonly options: VoiceCallsOptions) {}

  /** Puts the calls on the bus: what this node says goes out, and what the others say comes in (hear). */
  attach(share: (message: CallBusMessage) => void): void {
    this.share = share;
  }

  /** The call running in a conversation, if any. */
  inConversation(conv: ConversationKey): CallState | undefined {
    let first: CallState | undefined;
    // Two at once only in a race between nodes (copied), which the first begun wins.
    for (const call of this.calls.values()) if (call.conv === conv && (!first || call.startedAt < first.startedAt)) first = call;
    return first;
  }

  byId(callId: string): CallState | undefined {
    return this.calls.get(callId);
  }

  all(): CallState[] {
    return [...this.calls.values()];
  }

  /** This connection's endpoint in the call, if it has one. */
  endpointOf(session: Session, callId: string): string | undefined {
    const bound = this.bySession.get(session);
    return bound?.callId === callId ? bound.endpoint : undefined;
  }

  /**
   * Starts a call in the conversation, or joins the one running there. The caller checked that the user
   * may call there; `members` is checked again by the home for a call begun meanwhile on another node.
   */
  async start(session: Session & { user: { id: number; name: string } }, conv: ConversationKey, video: boolean): Promise<{ call: CallInfo; endpoint: string }> {
    const running = this.inConversation(conv);
    if (running) return this.join(session, running.id);
    await this.leaveOthers(session, null);
    const endpoint = newCallId();
    const op: CallOp = { op: 'start', conv, video, userId: session.user.id, user: session.user.name, node: this.options.nodeId, callId: newCallId(), endpoint };
    return this.bound(session, endpoint, await this.apply(this.options.nodeId, op));
  }

  /** Joins a call (answers a ring); with `resume`, this connection takes over the user's endpoint of a connection that closed. */
  async join(session: Session & { user: { id: number; name: string } }, callId: string, resume?: string): Promise<{ call: CallInfo; endpoint: string }> {
    const call = this.calls.get(callId);
    if (!call) throw unknownCall(callId);
    const mine = this.endpointOf(session, callId);
    if (mine && (resume === undefined || resume === mine)) return { call: callInfo(call), endpoint: mine };
    await this.leaveOthers(session, callId);
    const endpoint = resume ?? newCallId();
    const op: CallOp = { op: 'join', callId, userId: session.user.id, user: session.user.name, node: this.options.nodeId, endpoint, resume: resume !== undefined };
    return this.bound(session, endpoint, await this.apply(call.home, op));
  }

  async decline(session: Session & { user: { id: number; name: string } }, callId: string): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) throw unknownCall(callId);
    refused(await this.apply(call.home, { op: 'decline', callId, userId: session.user.id, user: session.user.name }));
  }

  async leave(session: Session, callId: string): Promise<void> {
    const endpoint = this.endpointOf(session, callId);
    const call = this.calls.get(callId);
    if (!call) throw unknownCall(callId);
    if (!endpoint) throw new ServerError(ErrorCode.NOT_IN_CALL, 'this connection is not in that call');
    this.unbind(session);
    refused(await this.apply(call.home, { op: 'leave', callId, endpoint }));
  }

  /** Relays a signal from this connection's endpoint to another endpoint of the call, wherever its connection is. */
  signal(session: Session & { user: { name: string } }, callId: string, to: string, signal: CallSignal): void {
    const { limits } = this.options;
    const now = Date.now();
    let bucket = this.signalBuckets.get(session);
    if (!bucket) {
      bucket = new TokenBucket(limits.callSignalsPerSecond, limits.callSignalBurst, now);
      this.signalBuckets.set(session, bucket);
    }
    bucket.refill(now);
    const wait = bucket.waitFor(1);
    if (wait > 0) throw new ServerError(ErrorCode.RATE_LIMITED, `at most ${limits.callSignalsPerSecond} signals a second; wait a moment`, wait);
    bucket.take(1);
    const call = this.calls.get(callId);
    if (!call) throw unknownCall(callId);
    const from = this.endpointOf(session, callId);
    if (!from) throw new ServerError(ErrorCode.NOT_IN_CALL, 'this connection is not in that call: join it first');
    const target = call.participants.find((participant) => participant.endpoint === to);
    if (!target || to === from) throw new ServerError(ErrorCode.NOT_IN_CALL, `no endpoint ${to} in that call`);
    const push: PushFrames['callSignal'] = { type: 'callSignal', callId, to, from, user: session.user.name, signal };
    // An endpoint in its grace has no connection: its client asks for a restart once it is back.
    if (target.node === this.options.nodeId) this.deliverSignal(push);
    else if (target.node !== null) this.share?.({ type: 'signal', to: target.node, push });
  }

  /** A connection of this node closed: its endpoint stays in its call for the grace (§21.4). */
  closed(session: Session): void {
    const bound = this.bySession.get(session);
    if (!bound) return;
    this.unbind(session);
    const call = this.calls.get(bound.callId);
    if (!call) return;
    void this.apply(call.home, { op: 'away', callId: bound.callId, endpoint: bound.endpoint, node: this.options.nodeId });
  }

  /** What another node said about calls (ClusterFanOut hands it over). */
  hear(message: CallBusMessage): void {
    const here = this.options.nodeId;
    switch (message.type) {
      case 'op':
        if (message.to !== here) return;
        void this.execute(message.op).then((result) => this.share?.({ type: 'reply', to: message.from, reqId: message.reqId, result }));
        return;
      case 'reply':
        if (message.to !== here) return;
        this.waiting.get(message.reqId)?.(message.result);
        this.waiting.delete(message.reqId);
        return;
      case 'state':
        this.copied(message.call);
        return;
      case 'signal':
        if (message.to === here) this.deliverSignal(message.push);
        return;
    }
  }

  /** Another node stopped or went silent: the calls it was home of are gone, and its endpoints leave the calls homed here. */
  nodeGone(node: string): void {
    for (const call of [...this.calls.values()]) {
      if (call.home === node) {
        this.calls.delete(call.id);
        this.dropBindings(call.id);
        void this.announce({ ...call, state: 'ended', participants: [] }, false);
      } else if (call.home === this.options.nodeId) {
        for (const participant of call.participants) if (participant.node === node) void this.execute({ op: 'away', callId: call.id, endpoint: participant.endpoint, node });
      }
    }
  }

  /** Stops every timer (the server closes). */
  close(): void {
    this.timers.close();
    for (const waiting of this.waiting.values()) waiting({ ok: false, error: { code: ErrorCode.SERVER_SHUTDOWN, message: 'the host is stopping' } });
    this.waiting.clear();
  }

  // ---------------------------------------------------------------- this node's connections

  private bound(session: Session, endpoint: string, result: OpResult): { call: CallInfo; endpoint: string } {
    const call = refused(result);
    // The connection may have closed while the home answered: its endpoint then goes away at once.
    if (!session.connection.isOpen) {
      const state = this.calls.get(call.id);
      if (state) void this.apply(state.home, { op: 'away', callId: call.id, endpoint, node: this.options.nodeId });
      return { call, endpoint };
    }
    const previous = this.byEndpoint.get(endpoint);
    if (previous && previous !== session) this.bySession.delete(previous);
    this.bySession.set(session, { callId: call.id, endpoint });
    this.byEndpoint.set(endpoint, session);
    return { call, endpoint };
  }

  private unbind(session: Session): void {
    const bound = this.bySession.get(session);
    if (!bound) return;
    this.bySession.delete(session);
    if (this.byEndpoint.get(bound.endpoint) === session) this.byEndpoint.delete(bound.endpoint);
  }

  private dropBindings(callId: string): void {
    for (const [session, bound] of this.bySession) if (bound.callId === callId) this.unbind(session);
  }

  /** A connection takes part in one call at a time: joining one leaves the one it was in (but `keep`). */
  private async leaveOthers(session: Session, keep: string | null): Promise<void> {
    const bound = this.bySession.get(session);
    if (bound && bound.callId !== keep) await this.leave(session, bound.callId).catch(() => undefined);
  }

  private deliverSignal(push: PushFrames['callSignal']): void {
    this.byEndpoint.get(push.to)?.connection.send(push);
  }

  // ---------------------------------------------------------------- ops, made by a call's home

  /** Makes the change at the call's home: here at once, or over the bus. */
  private apply(home: string, op: CallOp): Promise<OpResult> {
    if (home === this.options.nodeId || !this.share) return this.execute(op);
    const reqId = this.nextReqId++;
    const share = this.share;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reqId);
        resolve({ ok: false, error: { code: ErrorCode.UNKNOWN_CALL, message: 'the host node holding that call does not answer' } });
      }, OP_TIMEOUT_MS);
      this.waiting.set(reqId, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      share({ type: 'op', to: home, from: this.options.nodeId, reqId, op });
    });
  }

  /** The rules, applied by the home: synchronous from reading the call to changing it, so no two changes interleave. */
  private async execute(op: CallOp): Promise<OpResult> {
    try {
      return { ok: true, call: callInfo(this.change(op)) };
    } catch (error) {
      if (error instanceof ServerError) return { ok: false, error: { code: error.code, message: error.message } };
      throw error;
    }
  }

  private change(op: CallOp): CallState {
    const { limits, clock } = this.options;
    const now = clock.now();
    if (op.op === 'start') {
      // Begun meanwhile (on another node, whose word came first): join that one instead.
      const running = this.inConversation(op.conv);
      if (running) {
        if (running.home !== this.options.nodeId) throw new ServerError(ErrorCode.UNKNOWN_CALL, 'a call began there meanwhile; join it');
        return this.change({ op: 'join', callId: running.id, userId: op.userId, user: op.user, node: op.node, endpoint: op.endpoint, resume: false });
      }
      const call: CallState = {
        id: op.callId,
        conv: op.conv,
        starterId: op.userId,
        startedBy: op.user,
        startedAt: now,
        video: op.video,
        state: 'ringing',
        participants: [{ endpoint: op.endpoint, userId: op.userId, user: op.user, since: now, node: op.node }],
        declined: [],
        activeAt: null,
        home: this.options.nodeId,
      };
      this.calls.set(call.id, call);
      this.timers.open(call.id);
      this.timers.set(call.id, 'ring', limits.callRingMs, () => this.end(call.id, 'missed', call.starterId));
      this.options.log.info('call started', { user: op.user, conv: op.conv, video: op.video });
      this.changed(call);
      return call;
    }
    const call = this.calls.get(op.callId);
    if (!call || call.home !== this.options.nodeId) throw unknownCall(op.callId);
    switch (op.op) {
      case 'join': {
        const existing = call.participants.find((participant) => participant.endpoint === op.endpoint);
        if (op.resume) {
          if (!existing || existing.userId !== op.userId) throw new ServerError(ErrorCode.NOT_IN_CALL, 'that endpoint is no longer in the call; join it again');
          existing.node = op.node;
          this.timers.clear(call.id, existing.endpoint);
          this.changed(call);
          return call;
        }
        const most = call.video ? limits.maxVideoCallParticipants : limits.maxCallParticipants;
        if (call.participants.length >= most) {
          throw new ServerError(ErrorCode.CALL_FULL, `a ${call.video ? 'video' : 'voice'} call holds at most ${most} people here; it is full`);
        }
        call.participants.push({ endpoint: op.endpoint, userId: op.userId, user: op.user, since: now, node: op.node });
        call.declined = call.declined.filter((name) => name !== op.user);
        if (call.state === 'ringing' && op.userId !== call.starterId) {
          call.state = 'active';
          call.activeAt = now;
          this.timers.clear(call.id, 'ring');
        }
        this.changed(call);
        return call;
      }
      case 'decline': {
        // Taking part on another device already: that device answered, nothing to decline.
        if (call.participants.some((participant) => participant.userId === op.userId)) return call;
        if (!call.declined.includes(op.user)) call.declined.push(op.user);
        if (call.state === 'ringing' && conversationKind(call.conv) === 'dm') return this.end(call.id, 'declined', op.userId);
        this.changed(call);
        return call;
      }
      case 'leave':
        return this.remove(call, op.endpoint);
      case 'away': {
        const participant = call.participants.find((candidate) => candidate.endpoint === op.endpoint);
        // Back already on another connection, or gone: nothing to do.
        if (!participant || participant.node !== op.node) return call;
        participant.node = null;
        this.timers.set(call.id, op.endpoint, limits.callReconnectGraceMs, () => {
          const still = this.calls.get(call.id);
          if (still) this.remove(still, op.endpoint);
        });
        this.changed(call);
        return call;
      }
    }
  }

  /** An endpoint leaves; the call ends when nobody is left to talk to. */
  private remove(call: CallState, endpoint: string): CallState {
    this.timers.clear(call.id, endpoint);
    call.participants = call.participants.filter((participant) => participant.endpoint !== endpoint);
    const users = new Set(call.participants.map((participant) => participant.userId));
    if (call.state === 'ringing' && !users.has(call.starterId)) return this.end(call.id, 'missed', call.starterId);
    // A direct call ends when one of the two hangs up; a group call when its last participant does.
    const over = conversationKind(call.conv) === 'dm' ? call.state === 'active' && users.size < 2 : users.size === 0;
    if (over) return this.end(call.id, call.state === 'active' ? 'ended' : 'missed', call.starterId);
    this.changed(call);
    return call;
  }

  /** Ends a call homed here; `by` is the user its line is from (null: no line, see copied). */
  private end(callId: string, kind: CallEvent['kind'], by: number | null): CallState {
    const call = this.calls.get(callId)!;
    this.timers.drop(callId);
    this.calls.delete(callId);
    this.dropBindings(callId);
    const now = this.options.clock.now();
    const ended: CallState = { ...call, state: 'ended', participants: [] };
    const durationMs = kind === 'ended' && call.activeAt !== null ? Math.max(0, now - call.activeAt) : undefined;
    this.options.log.info('call ended', { conv: call.conv, kind, ...(durationMs !== undefined ? { durationMs } : {}) });
    this.share?.({ type: 'state', call: ended });
    void this.announce(ended, true).then(() => (by === null ? undefined : writeCallLine(this.options, call, kind, by, now, durationMs)));
    return ended;
  }

  /** A call homed here changed: the other nodes' copies, then everyone who may read its conversation. */
  private changed(call: CallState): void {
    this.share?.({ type: 'state', call: structuredClone(call) });
    void this.announce(call, true);
  }

  /**
   * A copy from the call's home: kept, and its end drops this node's connections' endpoints in it. Two
   * nodes may each start a call in one conversation at once (neither had heard of the other's): the one
   * begun first (then the smaller id) stays, the other's home ends its own without a line, and its
   * endpoints' clients, told of both, join the one that stays (docs/PROTOCOL.md §21.2).
   */
  private copied(call: CallState): void {
    if (call.state === 'ended') {
      this.calls.delete(call.id);
      this.dropBindings(call.id);
      return;
    }
    this.calls.set(call.id, call);
    for (const mine of [...this.calls.values()]) {
      if (mine.conv !== call.conv || mine.id === call.id || mine.home !== this.options.nodeId) continue;
      if (mine.startedAt > call.startedAt || (mine.startedAt === call.startedAt && mine.id > call.id)) this.end(mine.id, 'missed', null);
    }
  }

  /** Pushes the call as it is now to every reader of its conversation online, on every node (the home's pushes cross the bus). */
  private announce(call: CallState, everywhere: boolean): Promise<void> {
    const frame: PushFrames['call'] = { type: 'call', call: callInfo(call) };
    return this.announcing
      .run(async () => {
        const readers = await callReaders(this.options.store, call.conv);
        if (everywhere) this.options.fanOut.push(readers, frame);
        else this.options.fanOut.pushHere(readers, frame);
      })
      .catch((error: unknown) => this.options.log.error('call not announced', { conv: call.conv, error: String(error) }));
  }

}

function unknownCall(callId: string): ServerError {
  return new ServerError(ErrorCode.UNKNOWN_CALL, `no call ${callId} for you: it ended, or never was`);
}

function refused(result: OpResult): CallInfo {
  if (!result.ok) throw new ServerError(result.error.code, result.error.message);
  return result.call;
}
