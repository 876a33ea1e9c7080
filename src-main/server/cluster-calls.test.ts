/**
 * Calls in a cluster (issue 39, docs/CLUSTER.md "calls"): two ChatServer nodes on one SQLite file and
 * Debian's nats-server as the bus, the caller on one node and the callee on the other.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallInfo } from '../../src-shared/protocol/calls.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ChatClient } from '../client/client.js';
import { type TlsIdentity, loadOrCreateIdentity } from '../net/tls.js';
import { openAsyncStore } from '../store/async-store.js';
import { TEST_PASSWORD_COST, login, nextEvent, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { NatsServer, natsMissing } from '../testing/nats.js';
import type { Bus, BusMessage } from './bus.js';
import { NatsBus } from './bus-nats.js';
import { type LogEntry, ServerLog } from './log.js';
import { ChatServer } from './server.js';

const TITLE = 'calls across two nodes';
describe.skipIf(natsMissing)(natsMissing ? `${TITLE} (skipped: ${natsMissing})` : TITLE, () => {
  let dir: string;
  let identity: TlsIdentity;
  let nats: NatsServer;
  const stops: (() => Promise<void>)[] = [];
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    dir = tempDir('lanchat-cluster-calls-');
    identity = await loadOrCreateIdentity(dir);
    nats = await NatsServer.start(dir);
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  afterAll(async () => {
    await nats.stop();
    removeDir(dir);
  });

  async function node(file: string, logs: LogEntry[], wrap: (bus: Bus) => Bus = (bus) => bus): Promise<{ port: number; stop: () => Promise<void> }> {
    const log = new ServerLog(null);
    log.subscribe((entry) => logs.push(entry));
    const store = openAsyncStore(file);
    const bus = wrap(await NatsBus.connect({ servers: nats.url, subject: 'lanchat.calls', log, heartbeatMs: 300, reconnectWaitMs: 100 }));
    const server = new ChatServer({ store, log, bus, tls: identity, passwordCost: TEST_PASSWORD_COST, presenceWindowMs: 200 });
    await server.ready;
    const { port } = await server.listen(0, '127.0.0.1');
    let stopped: Promise<void> | null = null;
    const stop = (): Promise<void> => (stopped ??= server.close().finally(async () => {
      await store.close();
      log.close();
    }));
    stops.push(stop);
    return { port, stop };
  }

  async function user(port: number, name: string): Promise<ChatClient> {
    const client = await login({ address: { port } }, name);
    clients.push(client);
    return client;
  }

  /** A node's bus that can hold back what the other nodes say about calls, then hand it over in order. */
  function holding(bus: Bus): Bus & { hold(): void; release(): void } {
    let held: [BusMessage, string][] | null = null;
    let deliver: (message: BusMessage, from: string) => void = () => undefined;
    return {
      get nodeId() {
        return bus.nodeId;
      },
      get heartbeatMs() {
        return bus.heartbeatMs;
      },
      get connected() {
        return bus.connected;
      },
      publish: (message) => bus.publish(message),
      receive: (handler, heartbeat) => {
        deliver = handler;
        bus.receive((message, from) => (held !== null && message.kind === 'call' ? held.push([message, from]) : handler(message, from)), heartbeat);
      },
      roundTripMs: () => bus.roundTripMs(),
      close: () => bus.close(),
      hold: () => {
        held = [];
      },
      release: () => {
        const messages = held ?? [];
        held = null;
        for (const [message, from] of messages) deliver(message, from);
      },
    };
  }

  const state = (client: ChatClient, wanted: CallInfo['state']) => nextEvent(client, 'call', ({ call }) => call.state === wanted).then(([push]) => push.call);

  it('rings on the other node, joins through the call’s home, relays signals over the bus, and ends with one line', async () => {
    const file = join(dir, 'calls.sqlite');
    const logsA: LogEntry[] = [];
    const logsB: LogEntry[] = [];
    const a = await node(file, logsA);
    const b = await node(file, logsB);
    await waitFor(() => logsA.some((entry) => entry.event === 'node joined') && logsB.some((entry) => entry.event === 'node joined'), 'the nodes to meet');
    const alice = await user(a.port, 'alice');
    const bob = await user(b.port, 'bob');
    const { contact } = await alice.request('chatRequest', { user: 'bob' });
    await bob.request('chatAnswer', { user: 'alice', accept: true });

    const ringing = state(bob, 'ringing');
    const started = await alice.request('callStart', { conv: contact.conv, video: true });
    expect((await ringing).id).toBe(started.call.id);
    // Node b knows the call from its home's word: bob lists it, and a second start there joins it.
    const active = state(alice, 'active');
    const joined = await bob.request('callStart', { conv: contact.conv, video: false });
    expect(joined.call).toMatchObject({ id: started.call.id, state: 'active', video: true });
    expect((await active).participants.map((participant) => participant.endpoint)).toEqual([started.endpoint, joined.endpoint]);

    const offer = nextEvent(bob, 'callSignal');
    await alice.request('callSignal', { callId: started.call.id, to: joined.endpoint, signal: { kind: 'offer', sdp: 'v=0 from a' } });
    expect((await offer)[0]).toMatchObject({ from: started.endpoint, user: 'alice', signal: { sdp: 'v=0 from a' } });
    const answer = nextEvent(alice, 'callSignal');
    await bob.request('callSignal', { callId: started.call.id, to: started.endpoint, signal: { kind: 'answer', sdp: 'v=0 from b' } });
    expect((await answer)[0]).toMatchObject({ from: joined.endpoint, user: 'bob', signal: { sdp: 'v=0 from b' } });
    await expect(bob.request('callSignal', { callId: started.call.id, to: 'AAAAAAAAAAAAAAAAAAAAAA', signal: { kind: 'restart' } })).rejects.toMatchObject({
      code: ErrorCode.NOT_IN_CALL,
    });

    const lineA = nextEvent(alice, 'message', (message) => message.callEvent !== undefined);
    const lineB = nextEvent(bob, 'message', (message) => message.callEvent !== undefined);
    const ended = state(alice, 'ended');
    await bob.request('callLeave', { callId: started.call.id });
    await ended;
    const [[onA], [onB]] = await Promise.all([lineA, lineB]);
    expect(onA).toEqual(onB);
    expect(onA).toMatchObject({ from: 'alice', callEvent: { kind: 'ended', callId: started.call.id } });
    expect((await bob.request('calls')).calls).toEqual([]);
    expect((await alice.request('history', { conv: contact.conv })).messages.filter((message) => message.callEvent)).toHaveLength(1);
  });

  it('ends the calls of a node that stops for the users of the others', async () => {
    const file = join(dir, 'gone.sqlite');
    const logsA: LogEntry[] = [];
    const logsB: LogEntry[] = [];
    const a = await node(file, logsA);
    const b = await node(file, logsB);
    await waitFor(() => logsA.some((entry) => entry.event === 'node joined') && logsB.some((entry) => entry.event === 'node joined'), 'the nodes to meet');
    const alice = await user(a.port, 'alice');
    const bob = await user(b.port, 'bob');
    const { contact } = await alice.request('chatRequest', { user: 'bob' });
    await bob.request('chatAnswer', { user: 'alice', accept: true });
    const ringing = state(bob, 'ringing');
    const started = await alice.request('callStart', { conv: contact.conv, video: false });
    await ringing;
    const ended = state(bob, 'ended');
    alice.close();
    await a.stop();
    expect((await ended).id).toBe(started.call.id);
    expect((await bob.request('calls')).calls).toEqual([]);
  });

  it('two nodes starting a call in one conversation at once keep the one begun first: the other ends without a line', async () => {
    const file = join(dir, 'race.sqlite');
    const logsA: LogEntry[] = [];
    const logsB: LogEntry[] = [];
    const buses: ReturnType<typeof holding>[] = [];
    const held = (bus: Bus): Bus => {
      const wrapped = holding(bus);
      buses.push(wrapped);
      return wrapped;
    };
    const a = await node(file, logsA, held);
    const b = await node(file, logsB, held);
    await waitFor(() => logsA.some((entry) => entry.event === 'node joined') && logsB.some((entry) => entry.event === 'node joined'), 'the nodes to meet');
    const alice = await user(a.port, 'alice');
    const bob = await user(b.port, 'bob');
    const { contact } = await alice.request('chatRequest', { user: 'bob' });
    await bob.request('chatAnswer', { user: 'alice', accept: true });

    // Neither node hears of the other's call until both began: each is home of its own.
    for (const bus of buses) bus.hold();
    const first = await alice.request('callStart', { conv: contact.conv, video: false });
    await waitFor(() => Date.now() > first.call.startedAt, 'the clock to move past the first start');
    const second = await bob.request('callStart', { conv: contact.conv, video: false });
    expect(second.call.id).not.toBe(first.call.id);
    expect(second.call.startedAt).toBeGreaterThan(first.call.startedAt);

    const lost = state(bob, 'ended');
    for (const bus of buses) bus.release();
    expect((await lost).id).toBe(second.call.id);
    for (const client of [alice, bob]) {
      await expect.poll(async () => (await client.request('calls')).calls.map((call) => call.id), { timeout: 10_000 }).toEqual([first.call.id]);
    }
    // bob's client, told of both, joins the one that stays.
    const joined = await bob.request('callJoin', { callId: first.call.id });
    expect(joined.call.participants.map((participant) => participant.user)).toEqual(['alice', 'bob']);
    await alice.request('callLeave', { callId: first.call.id });
    await expect.poll(async () => (await bob.request('calls')).calls, { timeout: 10_000 }).toEqual([]);
    const lines = (await alice.request('history', { conv: contact.conv })).messages.filter((message) => message.callEvent);
    expect(lines.map((message) => message.callEvent)).toEqual([expect.objectContaining({ kind: 'ended', callId: first.call.id })]);
  });
});
