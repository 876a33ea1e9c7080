/**
 * Every frame the server sends without being asked (docs/PROTOCOL.md §4.3, §4.4, §8),
 * as zod schemas keyed by type. Extra fields are dropped when parsing, so a later
 * 1.x server may add some.
 */
import { z } from 'zod';
import { wireError } from './errors.js';
import { deviceId, mlsFrame } from './e2ee.js';
import { callInfo, callSignal, endpointId } from './calls.js';
import { callId, chatMessage, conversationEvent, conversationKey, eventId, groupId, groupInfo, groupInvitation } from './objects.js';
import type { ResponseFrame } from './requests.js';

const time = z.number().int().min(0);

/** One user's state in a `presence` push: online (at least one logged-in session) or not, since ts. */
export const presenceState = z.object({ user: z.string(), online: z.boolean(), ts: time });
export type PresenceState = z.infer<typeof presenceState>;

/** The `presence` push of protocol 1.0 and 1.1: a client that says one of them in hello gets one per user (docs/PROTOCOL.md §8.2). */
export const presenceBefore12 = z
  .object({ type: z.literal('presence'), ...presenceState.shape })
  .describe('push.presence as a client that said 1.0 or 1.1 in hello gets it: one frame per user');
export type PresenceBefore12 = z.infer<typeof presenceBefore12>;

export const pushes = {
  /** eventId (protocol 1.1): the message's position in the event log. */
  message: z.object({ type: z.literal('message'), message: chatMessage, eventId: eventId.optional() }),
  /** Protocol 1.2: the users whose state changed, in the order announced (docs/PROTOCOL.md §8.2). */
  presence: z.object({ type: z.literal('presence'), users: z.array(presenceState).min(1) }),
  /** `from` asked `to` for a private chat (also sent to the asker's other connections). */
  chatRequest: z.object({ type: z.literal('chatRequest'), from: z.string(), to: z.string(), ts: time }),
  /** `from` answered the request of `to`. */
  chatAnswer: z.object({ type: z.literal('chatAnswer'), from: z.string(), to: z.string(), accepted: z.boolean(), ts: time }),
  /** `user` left the private chat with `with`. */
  chatLeft: z.object({ type: z.literal('chatLeft'), user: z.string(), with: z.string(), ts: time }),
  /** Your direct messages in conv up to id upTo reached the recipient's device (sent when they catch up with sync). */
  delivered: z.object({ type: z.literal('delivered'), conv: conversationKey, upTo: z.number().int().min(0) }),
  group: z.object({ type: z.literal('group'), group: groupInfo }),
  groupRemoved: z.object({
    type: z.literal('groupRemoved'),
    groupId,
    name: z.string(),
    reason: z.enum(['deleted', 'removed']),
  }),
  // Bug 10 (issue 11): the muted user learns it before sending.
  /** The host muted you (until: when it ends; absent: until lifted), or the mute ended or was lifted (muted false). */
  mute: z.object({ type: z.literal('mute'), muted: z.boolean(), until: time.optional() }),
  error: z.object({ type: z.literal('error'), error: wireError }),
  bye: z.object({ type: z.literal('bye'), error: wireError }),
  ping: z.object({ type: z.literal('ping') }),
  pong: z.object({ type: z.literal('pong') }),
  // groups: invitations (docs/PROTOCOL.md §8.11)
  /** Your unanswered group invitations, all of them, whenever they change. */
  groupInvitations: z.object({ type: z.literal('groupInvitations'), invitations: z.array(groupInvitation) }),
  // Conversation changes (protocol 1.1, docs/PROTOCOL.md §17).
  /** An edit, delete, reaction or read position, live (new messages come as message pushes). */
  event: z.object({ type: z.literal('event'), event: conversationEvent }),
  /** user is typing in conv; shown until typingIntervalMs * 2 pass without another, or their message arrives. */
  typing: z.object({ type: z.literal('typing'), conv: conversationKey, user: z.string() }),
  // End-to-end encryption (issue 35, docs/PROTOCOL.md §20.4).
  /** An MLS frame of a conversation you may read, as the host ordered it. */
  mls: z.object({ type: z.literal('mls'), frame: mlsFrame }),
  /** `devices` of `user`, who has a chat or a group with you, can be added now: each had no key package and uploaded some (§20.3). */
  deviceReady: z.object({ type: z.literal('deviceReady'), user: z.string(), devices: z.array(deviceId).optional() }),
  /** A claim left your device `deviceId` with `keyPackages` (under ten): upload more (§20.3). */
  keyPackagesLow: z.object({ type: z.literal('keyPackagesLow'), deviceId, keyPackages: z.number().int().min(0) }),
  // Calls (issue 39, docs/PROTOCOL.md §21).
  /** A call of a conversation you may read, at each change: started (ringing), joined, left, declined, ended. */
  call: z.object({ type: z.literal('call'), call: callInfo }),
  /** A signal for your endpoint `to` from the endpoint `from` of `user` in the call. */
  callSignal: z.object({ type: z.literal('callSignal'), callId, to: endpointId, from: endpointId, user: z.string(), signal: callSignal }),
};

type PushType = keyof typeof pushes;
export type PushFrames = { [K in PushType]: z.infer<(typeof pushes)[K]> };
export type PushFrame = PushFrames[PushType];
export type ServerFrame = ResponseFrame | PushFrame;

export function isPushType(type: string): type is PushType {
  return Object.hasOwn(pushes, type);
}
