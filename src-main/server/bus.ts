/**
 * The bus between the host nodes of one room (docs/CLUSTER.md, "The bus"): what a node's
 * fan-out tells the other nodes, and hears from them (outbound/cluster-fan-out.ts). Each node delivers
 * what it hears to its own sessions only; a node never hears its own messages back. A host alone has
 * no bus: its fan-out (LoneFanOut) does no work for a cluster at all.
 */
import type { WireError } from '../../src-shared/protocol/errors.js';
import type { CallBusMessage } from './call-state.js';
import type { EndTarget } from './end-target.js';
import type { ThrottleEvent } from './throttle.js';

export type BusMessage =
  /**
   * A push encoded once (encodeFrame) for the sessions of the users `to`, or of everyone when null; with
   * the message id and the event id it carries (0: none), which order it among the others; with the
   * group's id when it is a `group` push (each node then reads the group again, ClusterFanOut.pushGroup).
   */
  | { kind: 'push'; to: number[] | null; bytes: Buffer; messageId: number; eventId: number; groupId?: number }
  /** The user's first session on the publishing node logged in, or its last one closed (at `ts`). */
  | { kind: 'presence'; userId: number; name: string; online: boolean; ts: number }
  /**
   * Every heartbeat: the users logged in on the publishing node. It states the whole set, so a node
   * that missed a presence message (the bus was down) is right again within a heartbeat; a node not
   * heard from for NODE_SILENT_HEARTBEATS heartbeats is gone, and so are its users.
   */
  | { kind: 'alive'; users: [id: number, name: string][] }
  /** The publishing node stops: its users are offline now. */
  | { kind: 'gone' }
  /** Closes sessions and transfers with the reason on every node (kick, ban, password change, group removal). */
  | { kind: 'end'; target: EndTarget; reason: WireError }
  /** The user's mute changed: until when (ms epoch), null for until lifted, or no mute when `muted` is false. */
  | { kind: 'mute'; userId: number; muted: boolean; until: number | null }
  /** A registration or login the node counted against the room's throttles and rates (throttle.ts, RoomThrottles). */
  | { kind: 'throttle'; event: ThrottleEvent }
  /** A call's change asked of its home, the home's answer, a call as its home has it now, or a signal for an endpoint (voice-calls.ts). */
  | { kind: 'call'; call: CallBusMessage };

/** A node not heard from for this many heartbeats is taken as gone. */
export const NODE_SILENT_HEARTBEATS = 3;

export interface Bus {
  /** This node's id, unique in the cluster. */
  readonly nodeId: string;
  /** How often the node says it is alive (see BusMessage 'alive'). */
  readonly heartbeatMs: number;
  /** Sends to every other node, in order: what one node publishes reaches each other node in the order published. */
  publish(message: BusMessage): void;
  /** Sets the one receiver of what the other nodes publish, and what runs every heartbeat (at once, then every heartbeatMs) until close. */
  receive(handler: (message: BusMessage, from: string) => void, heartbeat: () => void): void;
  /** Whether the bus is reachable now (the admin port's /readyz). */
  readonly connected: boolean;
  /** The time a message takes to the bus and back, in ms (the admin port's metrics); rejects while it is unreachable. */
  roundTripMs(): Promise<number>;
  close(): Promise<void>;
}
