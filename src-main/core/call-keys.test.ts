/**
 * Calls inside the end-to-end encryption (issue 39 §5, PROTOCOL §21.7): what a host that tampers with the
 * signalling it relays can and cannot do. The host is real; the tampering is a relay in front of it that
 * rewrites the frames the host writes, which to the app is the same as a host doing it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-shared/api.js';
import type { CallInfo, CallSignal } from '../../src-shared/protocol/calls.js';
import { LinkProxy } from '../testing/checker/proxy.js';
import { offerSdp, unwrap, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { useRoom } from '../testing/room.js';
import { type CallKeysDevice, CallVerifier, sdpFingerprints } from './call-keys.js';
import { e2eeCore, sent } from './testing.js';

// Plain TCP, so that the relay in front of the host can read and rewrite its frames.
const room = useRoom({ start: { tls: false } });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WAIT_MS = 1_500;
const newCore = () => e2eeCore(cleanups, 'lanchat-call-keys-', { callVouchWaitMs: WAIT_MS });

const ALICE_CERT = Array.from({ length: 32 }, (_, index) => (index + 0xa0).toString(16).toUpperCase()).join(':');
const BOB_CERT = Array.from({ length: 32 }, (_, index) => (index + 0x10).toString(16).toUpperCase()).join(':');
const CAROL_CERT = Array.from({ length: 32 }, (_, index) => (index + 0x40).toString(16).toUpperCase()).join(':');
const HOST_CERT = Array.from({ length: 32 }, () => '66').join(':');

type Signal = Extract<AppEvent, { type: 'callSignal' }>;
type Unverified = Extract<AppEvent, { type: 'callUnverified' }>;
const signals = (events: AppEvent[]): Signal[] => events.filter((event): event is Signal => event.type === 'callSignal');
const unverified = (events: AppEvent[]): Unverified[] => events.filter((event): event is Unverified => event.type === 'callUnverified');

type App = ReturnType<typeof newCore>;

/** Sends `text`, again until it goes: each app registers as an encryption device after its login, so a first message can find the other app not one yet. */
async function sentOnceDevices(from: App, target: Parameters<App['core']['send']>[0], text: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    const { clientMsgId } = unwrap(await from.core.send(target, text));
    if ((await sent(from.events, clientMsgId, 10_000)).status === 'sent') return;
    if (tries > 50) throw new Error(`"${text}" never went: an app never became an encryption device`);
    await sleep(100);
  }
}

/** alice joins the room directly, bob through `proxy`; both are encryption devices in an accepted DM, then in a call there. */
async function inCall(proxy: LinkProxy) {
  const alice = newCore();
  const bob = newCore();
  unwrap(await alice.core.join({ host: '127.0.0.1', port: room.port, name: 'alice', password: 'alice-secret', allowUnencrypted: true }));
  unwrap(await bob.core.join({ host: '127.0.0.1', port: proxy.port, name: 'bob', password: 'bob-secret', allowUnencrypted: true }));
  unwrap(await alice.core.chatRequest('bob'));
  const { conv } = unwrap(await bob.core.chatAnswer('alice', true));
  // A DM first: both are in the DM's MLS group.
  await sentOnceDevices(alice, { kind: 'dm', user: 'bob' }, 'ring you?');
  await waitFor(() => bob.events.some((event) => event.type === 'message' && event.message.text === 'ring you?'), 'the DM');
  const started = unwrap(await alice.core.callStart(conv, false));
  await waitFor(() => bob.events.some((event) => event.type === 'call' && event.call.id === started.call.id), 'the ring');
  const joined = unwrap(await bob.core.callJoin(started.call.id));
  return { alice, bob, callId: started.call.id, aliceEndpoint: started.endpoint, bobEndpoint: joined.endpoint };
}

describe('call signalling inside the end-to-end encryption', () => {
  it('passes on offers and answers whose fingerprints the other app vouched for, and refuses one whose fingerprint the host replaced', async () => {
    const proxy = await LinkProxy.start(await freePort(), () => room.port);
    cleanups.push(() => proxy.close());
    let tampering = false;
    // The host replaces the fingerprint in what it relays to bob, as a host sitting in the middle of the DTLS would.
    proxy.rewriteHost((frame) => {
      const push = frame as { type?: string; signal?: CallSignal };
      if (!tampering || push.type !== 'callSignal' || push.signal === undefined || !('sdp' in push.signal)) return frame;
      return { ...push, signal: { ...push.signal, sdp: push.signal.sdp.replace(/a=fingerprint:sha-256 \S+/, `a=fingerprint:sha-256 ${HOST_CERT}`) } };
    });
    const { alice, bob, callId, aliceEndpoint, bobEndpoint } = await inCall(proxy);

    // Honest: bob's offer, and a candidate right behind it, reach alice in order; her answer reaches him.
    unwrap(await bob.core.callSignal(callId, aliceEndpoint, { kind: 'offer', sdp: offerSdp(BOB_CERT) }));
    unwrap(await bob.core.callSignal(callId, aliceEndpoint, { kind: 'candidate', candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 }));
    await waitFor(() => signals(alice.events).length === 2, 'the offer and candidate at alice');
    expect(signals(alice.events).map((event) => [event.from, event.user, event.signal.kind])).toEqual([
      [bobEndpoint, 'bob', 'offer'],
      [bobEndpoint, 'bob', 'candidate'],
    ]);
    unwrap(await alice.core.callSignal(callId, bobEndpoint, { kind: 'answer', sdp: offerSdp(ALICE_CERT) }));
    await waitFor(() => signals(bob.events).length === 1, 'the answer at bob');
    expect(sdpFingerprints((signals(bob.events)[0]!.signal as { sdp: string }).sdp)).toEqual([`sha-256 ${ALICE_CERT}`]);

    // The host swaps alice's fingerprint for its own in her next answer (an ICE restart's): bob's app refuses it,
    // says why, and drops what that endpoint sends after it.
    tampering = true;
    unwrap(await alice.core.callSignal(callId, bobEndpoint, { kind: 'answer', sdp: offerSdp(ALICE_CERT) }));
    unwrap(await alice.core.callSignal(callId, bobEndpoint, { kind: 'candidate', candidate: '' }));
    await waitFor(() => unverified(bob.events).length === 1, 'the refusal at bob');
    expect(unverified(bob.events)[0]).toEqual({ type: 'callUnverified', callId, endpoint: aliceEndpoint, user: 'alice', reason: 'mismatch' });
    unwrap(await bob.core.send({ kind: 'dm', user: 'alice' }, 'after the refusal'));
    await waitFor(() => alice.events.some((event) => event.type === 'message' && event.message.text === 'after the refusal'), 'a later DM');
    expect(signals(bob.events)).toHaveLength(1);
  });

  it('refuses an offer nobody vouched for: a signal the host makes up, or one from an app that did not say its keys', async () => {
    const proxy = await LinkProxy.start(await freePort(), () => room.port);
    cleanups.push(() => proxy.close());
    const { alice, bob, callId, aliceEndpoint, bobEndpoint } = await inCall(proxy);
    // A second session of bob's, with no encryption device, joins the call as an endpoint of its own and offers
    // without a voucher: what alice's app sees is what it would see of an offer the host made up.
    const other = await room.user('bob', 'bob-secret', { tls: false });
    const { endpoint: otherEndpoint } = await other.request('callJoin', { callId });
    await other.request('callSignal', { callId, to: aliceEndpoint, signal: { kind: 'offer', sdp: offerSdp(BOB_CERT) } });
    await other.request('callSignal', { callId, to: aliceEndpoint, signal: { kind: 'candidate', candidate: '' } });
    await waitFor(() => unverified(alice.events).length === 1, 'the refusal at alice');
    expect(unverified(alice.events)[0]).toEqual({ type: 'callUnverified', callId, endpoint: otherEndpoint, user: 'bob', reason: 'missing' });
    expect(signals(alice.events).filter((event) => event.from === otherEndpoint)).toEqual([]);

    // An offer with no fingerprint at all cannot be verified either; bob's own app, vouching, still gets through.
    await other.request('callSignal', { callId, to: bobEndpoint, signal: { kind: 'offer', sdp: 'v=0\r\n' } });
    unwrap(await bob.core.callSignal(callId, aliceEndpoint, { kind: 'offer', sdp: offerSdp(BOB_CERT) }));
    await waitFor(() => signals(alice.events).some((event) => event.from === bobEndpoint), 'the vouched offer at alice');
    await waitFor(() => unverified(bob.events).length === 1, 'the refusal at bob');
    expect(unverified(bob.events)[0]).toMatchObject({ endpoint: otherEndpoint, reason: 'missing' });
    other.close();
  });
});

describe('a member the group\'s encryption has not taken in yet', () => {
  it('offers in a call: the peer holding her offer brings her devices into the group, her voucher follows, and the offer passes', async () => {
    // The apps' own wait for a voucher: nothing is refused here, and the adding has all of it on a loaded machine.
    const [alice, bob, carol] = [0, 1, 2].map(() => e2eeCore(cleanups, 'lanchat-call-keys-')) as [App, App, App];
    for (const [user, name] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) {
      unwrap(await user.core.join({ host: '127.0.0.1', port: room.port, name, password: `${name}-secret`, allowUnencrypted: true }));
    }
    const group = unwrap(await alice.core.groupCreate('Team', ['bob']));
    unwrap(await bob.core.groupAnswer(group.id, true));
    // The group's encryption holds alice's and bob's devices: alice wrote in it (once bob's app is an encryption device).
    await sentOnceDevices(alice, { kind: 'group', groupId: group.id }, 'before carol');
    await waitFor(() => bob.events.some((event) => event.type === 'message' && event.message.text === 'before carol'), 'the group message at bob');
    // carol joins the group after that, and nobody has written in it since: no app has added her devices.
    unwrap(await alice.core.groupAddMember(group.id, 'carol'));
    unwrap(await carol.core.groupAnswer(group.id, true));
    // carol's app is an encryption device: she wrote to bob in a DM.
    unwrap(await carol.core.chatRequest('bob'));
    unwrap(await bob.core.chatAnswer('carol', true));
    await sentOnceDevices(carol, { kind: 'dm', user: 'bob' }, 'hi bob');

    const started = unwrap(await alice.core.callStart(group.conv, false));
    await waitFor(() => carol.events.some((event) => event.type === 'call' && event.call.id === started.call.id), 'the ring at carol');
    const { endpoint: carolEndpoint } = unwrap(await carol.core.callJoin(started.call.id));
    unwrap(await carol.core.callSignal(started.call.id, started.endpoint, { kind: 'offer', sdp: offerSdp(CAROL_CERT) }));
    await waitFor(() => signals(alice.events).some((event) => event.from === carolEndpoint) || unverified(alice.events).length > 0, 'carol\'s offer at alice');
    expect(unverified(alice.events)).toEqual([]);
    expect(signals(alice.events).map((event) => [event.from, event.user, event.signal.kind])).toEqual([[carolEndpoint, 'carol', 'offer']]);
    // And she reads the group from then on.
    unwrap(await bob.core.send({ kind: 'group', groupId: group.id }, 'welcome carol'));
    await waitFor(() => carol.events.some((event) => event.type === 'message' && event.message.text === 'welcome carol'), 'the group message at carol');
  });
});

/**
 * When a late member's app takes in the group races the waits (a group call on a loaded machine): what turns
 * on is only when the group takes carol in, so the group here is one the test lets her into when it chooses;
 * the three apps' verifiers are the real ones, each `call` message reaching the others as MLS would pass it on.
 */
describe('a voucher racing the adding of its sender', () => {
  const WAIT = 500;
  const CAROL_TO_ALICE = CAROL_CERT.replace(/^40/, '41');
  const CAROL_TO_BOB = CAROL_CERT.replace(/^40/, '42');
  const endpoint = (letter: string): string => letter.repeat(22);
  const call: CallInfo = {
    id: 'call-1',
    conv: 'group:1',
    startedBy: 'alice',
    startedAt: 0,
    video: false,
    state: 'active',
    participants: ['alice', 'bob', 'carol'].map((user) => ({ user, endpoint: endpoint(user[0]!), since: 0 })),
    declined: [],
  };
  const offer = (fingerprint: string): CallSignal => ({ kind: 'offer', sdp: offerSdp(fingerprint) });

  /** alice, bob and carol in `call`, carol not in the group until `letCarolIn`; whoever waits on her adding waits until then. */
  function threeApps() {
    const members = new Set(['alice', 'bob']);
    let letIn = (): void => undefined;
    const added = new Promise<void>((resolve) => {
      letIn = () => {
        members.add('carol');
        resolve();
      };
    });
    const apps = new Map<string, { verifier: CallVerifier; events: (Signal | Unverified)[] }>();
    const device = (user: string): CallKeysDevice => ({
      encrypts: () => true,
      vouch: async (conv, callId, from, fingerprints) => {
        if (!members.has(user)) throw new Error('This device is not in the group’s encryption yet');
        for (const [other, app] of apps) if (other !== user) setImmediate(() => app.verifier.hear({ conv, user, callId, endpoint: from, fingerprints }));
      },
      admit: async (_conv, who) => {
        if (!members.has(who)) await added;
      },
    });
    for (const user of ['alice', 'bob', 'carol']) {
      const events: (Signal | Unverified)[] = [];
      const verifier = new CallVerifier(device(user), (event) => events.push(event), WAIT);
      verifier.know(call);
      apps.set(user, { verifier, events });
    }
    const app = (user: string) => apps.get(user)!;
    /** carol's offer to `to`, as her app sends it: the voucher and the signal at once. */
    const carolOffers = (to: string, fingerprint: string): Promise<void> => {
      app(to).verifier.received({ type: 'callSignal', callId: call.id, to: endpoint(to[0]!), from: endpoint('c'), user: 'carol', signal: offer(fingerprint) });
      return app('carol').verifier.vouchFor(call, endpoint('c'), endpoint(to[0]!), offer(fingerprint));
    };
    const outcome = async (user: string) => {
      await waitFor(() => app(user).events.length > 0, `carol's offer at ${user}, passed on or refused`);
      return app(user).events.map((event) => (event.type === 'callSignal' ? ['passed', event.user, sdpFingerprints((event.signal as { sdp: string }).sdp)] : ['refused', event.user, event.reason]));
    };
    return { letCarolIn: letIn, carolOffers, outcome };
  }

  it('holds her offer for as long as the peer is adding her, and a wait more: the wait counts from the adding', async () => {
    const { letCarolIn, carolOffers, outcome } = threeApps();
    const saying = carolOffers('alice', CAROL_TO_ALICE);
    await sleep(3 * WAIT);
    letCarolIn();
    await saying;
    expect(await outcome('alice')).toEqual([['passed', 'carol', [`sha-256 ${CAROL_TO_ALICE}`]]]);
  });

  it('names again, in her next voucher, the keys of one that could not go before she was in', async () => {
    const { letCarolIn, carolOffers, outcome } = threeApps();
    // One connection to each peer, each with a certificate of its own, as Chromium makes them.
    const toAlice = carolOffers('alice', CAROL_TO_ALICE);
    const toBob = carolOffers('bob', CAROL_TO_BOB);
    await expect(toAlice).rejects.toThrow(/not in the group/);
    await sleep(WAIT);
    letCarolIn();
    await toBob;
    expect(await outcome('bob')).toEqual([['passed', 'carol', [`sha-256 ${CAROL_TO_BOB}`]]]);
    expect(await outcome('alice')).toEqual([['passed', 'carol', [`sha-256 ${CAROL_TO_ALICE}`]]]);
  });
});

describe('sdpFingerprints', () => {
  it('reads every a=fingerprint line, session or media level, once, in one case', () => {
    const text = ['v=0', 'a=fingerprint:SHA-256 ab:cd', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=fingerprint:sha-256 AB:CD', 'a=fingerprint:sha-1 01:02 ', ''].join('\r\n');
    expect(sdpFingerprints(text)).toEqual(['sha-256 AB:CD', 'sha-1 01:02']);
    expect(sdpFingerprints('v=0\r\na=setup:actpass\r\n')).toEqual([]);
  });
});
