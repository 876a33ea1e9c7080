/**
 * A call's state, as the wire shows it (callInfo), and what nodes say to each other about calls
 * (voice-calls.ts uses them; bus.ts and the fan-out carry them). Plain types, below both.
 */
import type { CallInfo } from '../../src-shared/protocol/calls.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { WireError } from '../../src-shared/protocol/errors.js';
import type { PushFrames } from '../../src-shared/protocol/pushes.js';

/** An endpoint as the home knows it: whose, and on which node its connection is (null: gone, in its grace). */
export interface Participant {
  endpoint: string;
  userId: number;
  user: string;
  since: number;
  node: string | null;
}

/** A call as every node keeps it (and as the home publishes it after each change). */
export interface CallState {
  id: string;
  conv: ConversationKey;
  starterId: number;
  startedBy: string;
  startedAt: number;
  video: boolean;
  state: CallInfo['state'];
  participants: Participant[];
  declined: string[];
  /** When an endpoint of someone other than the starter first joined. */
  activeAt: number | null;
  home: string;
}

/** A change of a call, made by its home (CallHome.apply), from whichever node's connection asked for it. */
export type CallOp =
  | { op: 'start'; conv: ConversationKey; video: boolean; userId: number; user: string; node: string; callId: string; endpoint: string }
  | { op: 'join'; callId: string; userId: number; user: string; node: string; endpoint: string; resume: boolean }
  | { op: 'decline'; callId: string; userId: number; user: string }
  | { op: 'leave'; callId: string; endpoint: string }
  /** The endpoint's connection closed on `node`: it stays for the grace, unless it came back meanwhile elsewhere. */
  | { op: 'away'; callId: string; endpoint: string; node: string };

export type OpResult = { ok: true; call: CallInfo } | { ok: false; error: WireError };

/** What crosses the bus for calls (bus.ts, BusMessage 'call'). */
export type CallBusMessage =
  | { type: 'op'; to: string; from: string; reqId: number; op: CallOp }
  | { type: 'reply'; to: string; reqId: number; result: OpResult }
  | { type: 'state'; call: CallState }
  | { type: 'signal'; to: string; push: PushFrames['callSignal'] };

/** The call as clients see it (§21.1): without the home's bookkeeping (user ids, nodes). */
export function callInfo(call: CallState): CallInfo {
  return {
    id: call.id,
    conv: call.conv,
    startedBy: call.startedBy,
    startedAt: call.startedAt,
    video: call.video,
    state: call.state,
    participants: call.participants.map(({ user, endpoint, since }) => ({ user, endpoint, since })),
    declined: [...call.declined],
  };
}
