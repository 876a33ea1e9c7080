/** The app in a call (issue 39): the App API's calls, and the call kept across a reconnect of the chat link. */
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-shared/api.js';
import type { CallInfo } from '../../src-shared/protocol/calls.js';
import { LinkProxy } from '../testing/checker/proxy.js';
import { removeDir, tempDir, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { useRoom } from '../testing/room.js';
import { startResumingApp } from './testing.js';

const room = useRoom({ start: {} });
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function app() {
  const dir = tempDir('lanchat-calls-');
  cleanups.push(() => removeDir(dir));
  return startResumingApp(dir, cleanups, { minMs: 50, maxMs: 200 });
}

type CallEvent = Extract<AppEvent, { type: 'call' }>;
type SignalEvent = Extract<AppEvent, { type: 'callSignal' }>;
const calls = (events: AppEvent[]): CallInfo[] => events.flatMap((event) => (event.type === 'call' ? [(event as CallEvent).call] : []));

describe('the app in a call', () => {
  it('answers a ring, relays signals both ways, and stays in the call with its endpoint when the chat link drops and comes back', async () => {
    const proxy = await LinkProxy.start(await freePort(), () => room.port);
    cleanups.push(() => proxy.close());
    const alice = await room.user('alice');
    const bob = app();
    await bob.call('join', { host: '127.0.0.1', port: proxy.port, name: 'bob', password: 'bob-secret' });
    const { contact } = await alice.request('chatRequest', { user: 'bob' });
    await bob.call('chatAnswer', 'alice', true);

    const started = await alice.request('callStart', { conv: contact.conv, video: false });
    await waitFor(() => calls(bob.events).some((call) => call.id === started.call.id && call.state === 'ringing'), 'the ring');
    const { endpoint } = await bob.call<{ call: CallInfo; endpoint: string }>('callJoin', started.call.id);
    expect(await bob.call('activeCalls')).toEqual([expect.objectContaining({ id: started.call.id, state: 'active' })]);
    const offer = new Promise((resolve) => alice.once('callSignal', resolve));
    await bob.call('callSignal', started.call.id, started.endpoint, { kind: 'offer', sdp: 'v=0' });
    expect(await offer).toMatchObject({ from: endpoint, user: 'bob', signal: { kind: 'offer', sdp: 'v=0' } });

    // The link drops in the middle of a frame; the app reconnects and takes its endpoint back.
    const mark = bob.events.length;
    proxy.cutMidFrame();
    await bob.core.dispatch('activeCalls', []);
    await waitFor(() => bob.events.slice(mark).some((event) => event.type === 'session' && event.session.status === 'online'), 'the reconnect');
    // A restart, not an answer: alice's raw session has no encryption device to vouch for an answer's keys (call-keys.test.ts).
    const restart = { kind: 'restart' as const };
    const restarted = (): boolean => bob.events.some((event) => event.type === 'callSignal' && (event as SignalEvent).signal.kind === 'restart');
    // Until the app took its endpoint back, the host keeps it with no connection and drops what is sent to it:
    // sent again every half second until it arrives.
    const resending = setInterval(() => void alice.request('callSignal', { callId: started.call.id, to: endpoint, signal: restart }).catch(() => undefined), 500);
    try {
      await alice.request('callSignal', { callId: started.call.id, to: endpoint, signal: restart });
      await waitFor(restarted, 'the signal after the reconnect');
    } finally {
      clearInterval(resending);
    }
    const now = (await alice.request('calls')).calls[0]!;
    expect(now).toMatchObject({ id: started.call.id, state: 'active' });
    expect(now.participants.map((participant) => participant.endpoint)).toEqual([started.endpoint, endpoint]);

    await bob.call('callLeave', started.call.id);
    await waitFor(() => calls(bob.events).some((call) => call.id === started.call.id && call.state === 'ended'), 'the end');
  });
});
