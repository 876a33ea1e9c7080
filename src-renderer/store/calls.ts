import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { sameName } from '../../src-shared/protocol/names.js';
import type { DeviceChoice } from '../calls/media.js';
import type { PeerView } from '../calls/mesh.js';
import type { CallInfo } from '../calls/types.js';
import type { SliceCreator } from './types.js';

/** Why this side's media could not start or change (calls.mediaError.*). */
export type MediaError = 'denied' | 'notFound' | 'busy' | 'other';

/** The call this window takes part in, and its media. */
export interface InCall {
  id: string;
  conv: ConversationKey;
  /** This connection's endpoint in the call; null while joining. */
  endpoint: string | null;
  /** When this side joined (the call's length counts from here). */
  joinedAt: number;
  muted: boolean;
  camera: boolean;
  sharing: boolean;
  speaking: boolean;
  /** What our own tile shows: the camera or the shared screen; null with neither. */
  preview: MediaStream | null;
  peers: PeerView[];
  devices: DeviceChoice;
  mediaError: MediaError | null;
  /** People whose side of the call could not be verified end to end (PROTOCOL §21.7), so they are not connected: why, by endpoint. */
  unverified: { endpoint: string; user: string; reason: 'missing' | 'mismatch' }[];
}

export interface CallsData {
  /** Calls ringing or running in your conversations, by id; an ended call is removed. */
  calls: Record<string, CallInfo>;
  /** Calls you answered (joined or declined) here: they ring no more. */
  answered: string[];
  inCall: InCall | null;
}

export interface CallsSlice extends CallsData {
  upsertCall(call: CallInfo): void;
  setCalls(calls: CallInfo[]): void;
  noteAnswered(callId: string): void;
  setInCall(inCall: InCall | null): void;
  updateInCall(change: Partial<InCall>): void;
}

declare module './types.js' {
  interface AppState extends CallsSlice {}
}

export const initialCalls: CallsData = { calls: {}, answered: [], inCall: null };

export const createCallsSlice: SliceCreator<CallsSlice> = (set) => ({
  ...initialCalls,
  upsertCall: (call) =>
    set((state) => {
      if (call.state !== 'ended') return { calls: { ...state.calls, [call.id]: call } };
      const { [call.id]: _ended, ...calls } = state.calls;
      return { calls, answered: state.answered.filter((id) => id !== call.id) };
    }),
  setCalls: (calls) => set({ calls: Object.fromEntries(calls.filter((call) => call.state !== 'ended').map((call) => [call.id, call])) }),
  noteAnswered: (callId) => set((state) => (state.answered.includes(callId) ? state : { answered: [...state.answered, callId] })),
  setInCall: (inCall) => set({ inCall }),
  updateInCall: (change) => set((state) => (state.inCall === null ? state : { inCall: { ...state.inCall, ...change } })),
});

/** The call running in this conversation, if any. */
export function callIn(calls: CallsData['calls'], conv: ConversationKey): CallInfo | undefined {
  return Object.values(calls).find((call) => call.conv === conv);
}

/** Whether you take part in the call on some device (this one or another). */
export function takesPart(call: CallInfo, me: string | null): boolean {
  return call.participants.some((participant) => sameName(participant.user, me));
}

/** How long a call rings when the host does not say (its default callRingMs). */
export const RING_MS = 45_000;

/**
 * The call ringing for you now: started by someone else, you in none of its endpoints, not answered here;
 * a group call goes on ringing for the others once someone joined, for as long as it rings (`ringMs`).
 */
export function ringingCall(state: Pick<CallsData, 'calls' | 'answered' | 'inCall'>, me: string | null, now = Date.now(), ringMs = RING_MS): CallInfo | undefined {
  return Object.values(state.calls).find(
    (call) =>
      (call.state === 'ringing' || (call.state === 'active' && now < call.startedAt + ringMs)) &&
      !sameName(call.startedBy, me) &&
      !takesPart(call, me) &&
      !state.answered.includes(call.id) &&
      call.id !== state.inCall?.id,
  );
}
