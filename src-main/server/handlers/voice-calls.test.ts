import { describe, expect, it } from 'vitest';
import type { CallInfo } from '../../../src-shared/protocol/calls.js';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import type { ChatClient } from '../../client/client.js';
import { nextEvent } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';

const room = useRoom({ start: {} });

/** Two users whose chat is accepted; answers their conversation's key. */
async function friends(a: ChatClient, b: ChatClient, bName: string, aName: string): Promise<string> {
  const { contact } = await a.request('chatRequest', { user: bName });
  await b.request('chatAnswer', { user: aName, accept: true });
  return contact.conv;
}

/** The next `call` push about a call in the state asked for. */
function callPush(client: ChatClient, state: CallInfo['state'], also: (call: CallInfo) => boolean = () => true): Promise<CallInfo> {
  return nextEvent(client, 'call', (push) => push.call.state === state && also(push.call)).then(([push]) => push.call);
}

describe('calls (issue 39, PROTOCOL §21)', () => {
  it('rings, connects, relays signals only to the endpoint addressed, and leaves an "ended" line with the duration', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const conv = await friends(alice, bob, 'bob', 'alice');
    const ringing = callPush(bob, 'ringing');
    const started = await alice.request('callStart', { conv, video: true });
    expect(started.call).toMatchObject({ conv, startedBy: 'alice', video: true, state: 'ringing', participants: [{ user: 'alice', endpoint: started.endpoint }], declined: [] });
    expect((await ringing).id).toBe(started.call.id);
    expect((await bob.request('calls')).calls.map((call) => call.id)).toEqual([started.call.id]);

    const active = callPush(alice, 'active');
    const joined = await bob.request('callJoin', { callId: started.call.id });
    expect(joined.endpoint).not.toBe(started.endpoint);
    expect((await active).participants.map((participant) => participant.user)).toEqual(['alice', 'bob']);

    const offer = nextEvent(bob, 'callSignal');
    await alice.request('callSignal', { callId: started.call.id, to: joined.endpoint, signal: { kind: 'offer', sdp: 'v=0 offer' } });
    expect((await offer)[0]).toEqual({ type: 'callSignal', callId: started.call.id, to: joined.endpoint, from: started.endpoint, user: 'alice', signal: { kind: 'offer', sdp: 'v=0 offer' } });
    const candidate = nextEvent(alice, 'callSignal');
    await bob.request('callSignal', { callId: started.call.id, to: started.endpoint, signal: { kind: 'candidate', candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
    expect((await candidate)[0]).toMatchObject({ from: joined.endpoint, user: 'bob', signal: { kind: 'candidate', sdpMid: '0' } });

    const ended = callPush(alice, 'ended');
    const line = nextEvent(alice, 'message', (message) => message.callEvent !== undefined);
    await bob.request('callLeave', { callId: started.call.id });
    expect((await ended).participants).toEqual([]);
    const [message] = await line;
    expect(message).toMatchObject({ conv, from: 'alice', callEvent: { kind: 'ended', callId: started.call.id, video: true } });
    expect(message.callEvent!.durationMs).toBeGreaterThanOrEqual(0);
    expect(message.text).toMatch(/^Video call with alice ended after \d+ s$/);
    expect((await bob.request('history', { conv })).messages.at(-1)).toEqual(message);
    expect((await alice.request('calls')).calls).toEqual([]);
    // A server-written line: nobody may edit it or answer it.
    await expect(alice.request('edit', { messageId: message.id, text: 'no' })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_MESSAGE });
  });

  it('ends a direct call the callee declines, with a "declined" line from them that the caller has unread', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const conv = await friends(alice, bob, 'bob', 'alice');
    const { call } = await alice.request('callStart', { conv, video: false });
    const ended = callPush(alice, 'ended', (pushed) => pushed.declined.includes('bob'));
    const line = nextEvent(alice, 'message', (message) => message.callEvent !== undefined);
    await bob.request('callDecline', { callId: call.id });
    await ended;
    expect((await line)[0]).toMatchObject({ from: 'bob', text: 'bob declined the voice call', callEvent: { kind: 'declined', video: false } });
    expect((await alice.request('readState')).conversations.find((state) => state.conv === conv)).toMatchObject({ unread: 1 });
    await expect(bob.request('callJoin', { callId: call.id })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CALL });
  });

  it('ends a call nobody answers as missed once it has rung callRingMs: a line from the caller, unread for the callee', async () => {
    await room.restart({ limits: { callRingMs: 200 } });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const conv = await friends(alice, bob, 'bob', 'alice');
    const line = nextEvent(bob, 'message', (message) => message.callEvent !== undefined);
    const { call } = await alice.request('callStart', { conv, video: true });
    expect((await line)[0]).toMatchObject({ from: 'alice', text: 'Missed video call from alice', callEvent: { kind: 'missed', callId: call.id } });
    expect((await bob.request('readState')).conversations.find((state) => state.conv === conv)).toMatchObject({ unread: 1 });
    expect((await alice.request('readState')).conversations.find((state) => state.conv === conv)).toMatchObject({ unread: 0 });
  });

  it('refuses calls where the caller may not write: the room, a chat not accepted, a group not theirs, a muted caller', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    await expect(alice.request('callStart', { conv: 'room', video: false })).rejects.toMatchObject({ code: ErrorCode.INVALID_TARGET });
    const { contact } = await alice.request('chatRequest', { user: 'bob' });
    await expect(alice.request('callStart', { conv: contact.conv, video: false })).rejects.toMatchObject({ code: ErrorCode.INVALID_TARGET, message: /accepted the chat/ });
    await bob.request('chatAnswer', { user: 'alice', accept: false });
    await expect(alice.request('callStart', { conv: contact.conv, video: false })).rejects.toMatchObject({ code: ErrorCode.CHAT_DECLINED });
    const { group } = await bob.request('groupCreate', { name: 'ops' });
    await expect(carol.request('callStart', { conv: group.conv, video: false })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });
    const { call } = await bob.request('callStart', { conv: group.conv, video: false });
    // A call of a conversation one cannot read does not exist for them.
    await expect(carol.request('callJoin', { callId: call.id })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CALL });
    await expect(carol.request('callDecline', { callId: call.id })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CALL });
    expect((await carol.request('calls')).calls).toEqual([]);
    const dm = await friends(carol, alice, 'alice', 'carol');
    await room.host.server.admin.mute('carol');
    await expect(carol.request('callStart', { conv: dm, video: false })).rejects.toMatchObject({ code: ErrorCode.MUTED });
  });

  it('holds one call per conversation, relays only within it, and refuses a group call past the mesh limit', async () => {
    await room.restart({ limits: { maxVideoCallParticipants: 2 } });
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    const { group } = await alice.request('groupCreate', { name: 'team', members: ['bob', 'carol'] });
    await bob.request('groupAnswer', { groupId: group.id, accept: true });
    await carol.request('groupAnswer', { groupId: group.id, accept: true });
    const started = await alice.request('callStart', { conv: group.conv, video: true });
    // Not joined yet: carol cannot signal into it.
    await expect(carol.request('callSignal', { callId: started.call.id, to: started.endpoint, signal: { kind: 'restart' } })).rejects.toMatchObject({ code: ErrorCode.NOT_IN_CALL });
    // A second start in the conversation joins the call there.
    const second = await bob.request('callStart', { conv: group.conv, video: false });
    expect(second.call).toMatchObject({ id: started.call.id, video: true, state: 'active' });
    await expect(alice.request('callSignal', { callId: started.call.id, to: started.endpoint, signal: { kind: 'restart' } })).rejects.toMatchObject({ code: ErrorCode.NOT_IN_CALL });
    await expect(alice.request('callSignal', { callId: started.call.id, to: 'AAAAAAAAAAAAAAAAAAAAAA', signal: { kind: 'restart' } })).rejects.toMatchObject({ code: ErrorCode.NOT_IN_CALL });
    await expect(carol.request('callJoin', { callId: started.call.id })).rejects.toMatchObject({ code: ErrorCode.CALL_FULL, message: /at most 2/ });
    // Bad signals are refused by the schema and change nothing.
    await expect(
      alice.request('callSignal', { callId: started.call.id, to: second.endpoint, signal: { kind: 'offer', sdp: 'x'.repeat(40_000) } }),
    ).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    // The group call goes on while anyone is in it.
    await alice.request('callLeave', { callId: started.call.id });
    expect((await carol.request('calls')).calls).toEqual([expect.objectContaining({ id: started.call.id, state: 'active', participants: [expect.objectContaining({ user: 'bob' })] })]);
    const ended = callPush(carol, 'ended');
    await bob.request('callLeave', { callId: started.call.id });
    await ended;
  });

  it('limits the signals of a connection (callSignalBurst, callSignalsPerSecond)', async () => {
    await room.restart({ limits: { callSignalBurst: 3, callSignalsPerSecond: 1 } });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const conv = await friends(alice, bob, 'bob', 'alice');
    const { call } = await alice.request('callStart', { conv, video: false });
    const { endpoint } = await bob.request('callJoin', { callId: call.id });
    const signal = { callId: call.id, to: endpoint, signal: { kind: 'candidate' as const, candidate: '' } };
    // Ten at once against a burst of three: the bucket refills one a second, far slower than they arrive.
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => alice.request('callSignal', signal)));
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ code: ErrorCode.RATE_LIMITED, retryAfterMs: expect.any(Number) });
  });

  it('keeps the endpoint of a connection that closed for the grace: the client comes back to it, or it leaves', async () => {
    await room.restart({ limits: { callReconnectGraceMs: 60_000 } });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const conv = await friends(alice, bob, 'bob', 'alice');
    const { call } = await alice.request('callStart', { conv, video: false });
    const { endpoint } = await bob.request('callJoin', { callId: call.id });
    bob.close();
    const bobAgain = await room.user('bob');
    // Still in the call: the host kept bob's endpoint.
    expect((await bobAgain.request('calls')).calls[0]!.participants.map((participant) => participant.endpoint)).toContain(endpoint);
    const resumed = await bobAgain.request('callJoin', { callId: call.id, endpoint });
    expect(resumed).toMatchObject({ endpoint, call: { state: 'active' } });
    const restart = nextEvent(bobAgain, 'callSignal');
    const started = (await alice.request('calls')).calls[0]!.participants[0]!.endpoint;
    await alice.request('callSignal', { callId: call.id, to: endpoint, signal: { kind: 'restart' } });
    expect((await restart)[0]).toMatchObject({ from: started, signal: { kind: 'restart' } });
    // Someone else's endpoint is not taken over.
    await expect(alice.request('callJoin', { callId: call.id, endpoint })).rejects.toMatchObject({ code: ErrorCode.NOT_IN_CALL });

    await room.restart({ limits: { callReconnectGraceMs: 100 } });
    const [carol, dave] = [await room.user('carol'), await room.user('dave')];
    const dm = await friends(carol, dave, 'dave', 'carol');
    const second = await carol.request('callStart', { conv: dm, video: false });
    await dave.request('callJoin', { callId: second.call.id });
    const line = nextEvent(carol, 'message', (message) => message.callEvent?.kind === 'ended');
    dave.close();
    expect((await line)[0]).toMatchObject({ from: 'carol', callEvent: { kind: 'ended', callId: second.call.id } });
  });
});
