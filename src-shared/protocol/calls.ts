/**
 * Voice and video calls (issue 39, docs/PROTOCOL.md §21): the call as the host describes it, the
 * signalling it relays between the endpoints of a call (WebRTC offers, answers and candidates, which the
 * host never reads); the line a call leaves in its conversation's history is ChatMessage.callEvent
 * (objects.ts). Media never passes through the host: the endpoints connect peer to peer.
 */
import { z } from 'zod';
import { callId, conversationKey } from './objects.js';

/** Fixed limits of §21 (not announced: the room's own limits are in hello's `limits`). */
export const CALL_LIMITS = {
  /** Characters of one SDP offer or answer: a video offer with every codec Chromium lists is about 10 000. */
  maxSdpLength: 32_768,
  /** Characters of one ICE candidate line. */
  maxCandidateLength: 1024,
  /** Characters of a candidate's media id (sdpMid). */
  maxMidLength: 64,
} as const;

/** One connection taking part in a call, named by the host like a call (128 random bits in base64url): a user with two devices in a call has two endpoints. */
export const endpointId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not an endpoint id');

const time = z.number().int().min(0);

export const callParticipant = z.object({
  user: z.string(),
  endpoint: endpointId,
  /** When this endpoint joined. */
  since: time,
});
export type CallParticipant = z.infer<typeof callParticipant>;

/**
 * A call as the host knows it now. ringing: started, nobody else joined yet (the starter's endpoint is
 * its one participant); active: two endpoints or more took part; ended: over (the last push of a call).
 */
export const callInfo = z.object({
  id: callId,
  conv: conversationKey,
  startedBy: z.string(),
  startedAt: time,
  /** Started as a video call (the mesh limit is maxVideoCallParticipants), or voice only. */
  video: z.boolean(),
  state: z.enum(['ringing', 'active', 'ended']),
  /** The endpoints in the call now, in the order they joined. */
  participants: z.array(callParticipant),
  /** Users who declined this call: their devices stop ringing (in a group call the others go on ringing). */
  declined: z.array(z.string()),
});
export type CallInfo = z.infer<typeof callInfo>;

/**
 * What one endpoint says to another to set up the media (the host relays it unread): an SDP offer or
 * answer, an ICE candidate (an empty `candidate`: no more candidates), or `restart`, a request that the
 * other side make a new offer with an ICE restart (after a network blip or a reconnect of the chat link).
 */
export const callSignal = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('offer'), sdp: z.string().min(1).max(CALL_LIMITS.maxSdpLength) }),
  z.strictObject({ kind: z.literal('answer'), sdp: z.string().min(1).max(CALL_LIMITS.maxSdpLength) }),
  z.strictObject({
    kind: z.literal('candidate'),
    candidate: z.string().max(CALL_LIMITS.maxCandidateLength),
    sdpMid: z.string().max(CALL_LIMITS.maxMidLength).nullable().optional(),
    sdpMLineIndex: z.number().int().min(0).max(1023).nullable().optional(),
  }),
  z.strictObject({ kind: z.literal('restart') }),
]);
export type CallSignal = z.infer<typeof callSignal>;
