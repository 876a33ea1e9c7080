/**
 * Issue 16, fan-out: three ChatServer nodes on ONE SQLite file (standing in for the shared
 * database) and Debian's nats-server as the bus, clients over TLS to different nodes.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ServerFrame } from '../../src-shared/protocol/pushes.js';
import { encodeFrame } from '../net/frame.js';
import { type TlsIdentity, loadOrCreateIdentity } from '../net/tls.js';
import { openAsyncStore } from '../store/async-store.js';
import type { AsyncStore } from '../store/types.js';
import type { ChatClient } from '../client/client.js';
import { RawPeer, TEST_PASSWORD_COST, announces, collectMessages, login, presenceIn, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { NatsServer, natsMissing } from '../testing/nats.js';
import { NatsBus } from './bus-nats.js';
import { NODE_SILENT_HEARTBEATS } from './bus.js';
import { type LogEntry, ServerLog } from './log.js';
import { ChatServer, type ServerOptions } from './server.js';

const HEARTBEAT_MS = 300;
/** The NATS server's largest message in these tests: a long enough message text does not fit. */
const MAX_PAYLOAD = 16 * 1024;
/** A room message whose push does not fit NATS: the other nodes must read it back from the database. */
const TOO_LONG_FOR_NATS = '€'.repeat(8000);

interface Node {
  server: ChatServer;
  store: AsyncStore;
  port: number;
  logs: LogEntry[];
  stop(): Promise<void>;
}

const TITLE = 'a cluster of nodes over NATS';
describe.skipIf(natsMissing)(natsMissing ? `${TITLE} (skipped: ${natsMissing})` : TITLE, () => {
  let dir: string;
  let identity: TlsIdentity;
  let nats: NatsServer;
  const nodes: Node[] = [];
  const peers: RawPeer[] = [];
  const clients: ChatClient[] = [];
  let subject = 0;

  beforeAll(async () => {
    dir = tempDir('lanchat-cluster-');
    identity = await loadOrCreateIdentity(dir);
    nats = await NatsServer.start(dir, MAX_PAYLOAD);
  });

  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.destroy();
    for (const client of clients.splice(0)) client.close();
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
  });

  afterAll(async () => {
    await nats.stop();
    removeDir(dir);
  });

  /** Starts `count` nodes on one database file of their own test, all on one subject; node i's clock is `skewsMs[i]` off. */
  async function cluster(count: number, skewsMs: number[] = [], options: Partial<ServerOptions> = {}): Promise<Node[]> {
    subject += 1;
    const file = join(dir, `chat-${subject}.sqlite`);
    for (let i = 0; i < count; i += 1) nodes.push(await startNode(file, `lanchat.test${subject}`, skewsMs[i] ?? 0, options));
    // Every node has heard every other one (their first heartbeats) before a test begins.
    await waitFor(() => nodes.every((node) => node.logs.filter((entry) => entry.event === 'node joined').length === count - 1), 'the nodes to meet');
    return nodes;
  }

  async function startNode(file: string, natsSubject: string, skewMs = 0, options: Partial<ServerOptions> = {}): Promise<Node> {
    const log = new ServerLog(null);
    const logs: LogEntry[] = [];
    log.subscribe((entry) => logs.push(entry));
    const store = openAsyncStore(file);
    const bus = await NatsBus.connect({ servers: nats.url, subject: natsSubject, log, heartbeatMs: HEARTBEAT_MS, reconnectWaitMs: 100 });
    const server = new ChatServer({
      store,
      log,
      bus,
      tls: identity,
      passwordCost: TEST_PASSWORD_COST,
      presenceWindowMs: 200,
      limits: { registrationsPerMinute: 10_000, addressRegistrationsPerMinute: 10_000 },
      ...(skewMs !== 0 ? { localClock: () => Date.now() + skewMs } : {}),
      ...options,
    });
    await server.ready;
    const { port } = await server.listen(0, '127.0.0.1');
    let stopped: Promise<void> | null = null;
    return {
      server,
      store,
      port,
      logs,
      stop: () => {
        stopped ??= server.close().finally(async () => {
          await store.close();
          log.close();
        });
        return stopped;
      },
    };
  }

  async function user(node: Node, name: string, localAddress?: string): Promise<RawPeer> {
    const peer = await RawPeer.open(node.port, localAddress);
    peers.push(peer);
    expect(await peer.login(name)).toMatchObject({ ok: true });
    return peer;
  }

  type MessageFrame = Extract<ServerFrame, { type: 'message' }>;
  const messages = (peer: RawPeer): MessageFrame[] => peer.frames.filter((frame): frame is MessageFrame => frame.type === 'message');
  const texts = (peer: RawPeer): string[] => messages(peer).map((frame) => frame.message.text);
  const presence = (peer: RawPeer, name: string): boolean[] =>
    presenceIn(peer.frames, name).map((state) => state.online);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** The message ids a session was given, pushed or in the answers to its sends, in the order they arrived. */
  const idsSeen = (peer: RawPeer): number[] =>
    peer.frames.flatMap((frame) => {
      if (frame.type === 'message') return [frame.message.id];
      const result = frame.type === 'res' && frame.ok ? (frame.result as { message?: { id: number } }) : undefined;
      return result?.message ? [result.message.id] : [];
    });

  it('delivers room, direct and group messages to sessions on every node, each once', async () => {
    const [a, b, c] = await cluster(3);
    const alice = await user(a!, 'alice');
    const aliceElsewhere = await user(b!, 'alice');
    const bob = await user(b!, 'bob');
    const carol = await user(c!, 'carol');

    expect(await alice.request('send', { clientMsgId: 'r1', to: { kind: 'room' }, text: 'to the room' })).toMatchObject({ ok: true });
    expect(await bob.request('send', { clientMsgId: 'd1', to: { kind: 'dm', user: 'carol' }, text: 'bob to carol' })).toMatchObject({ ok: true });
    const created = await carol.request('groupCreate', { name: 'Team', members: ['alice'] });
    const groupId = (created as { result: { group: { id: number } } }).result.group.id;
    await aliceElsewhere.waitFrame((frame) => frame.type === 'groupInvitations' && frame.invitations.length === 1);
    expect(await alice.request('groupAnswer', { groupId, accept: true })).toMatchObject({ ok: true });
    expect(await carol.request('send', { clientMsgId: 'g1', to: { kind: 'group', groupId }, text: 'team only' })).toMatchObject({ ok: true });
    // Last, from the first node: once it is everywhere, everything before it from the same node is too.
    expect(await alice.request('send', { clientMsgId: 'r2', to: { kind: 'room' }, text: 'last' })).toMatchObject({ ok: true });

    for (const peer of [aliceElsewhere, bob, carol]) await peer.waitFrame((frame) => frame.type === 'message' && frame.message.text === 'last');
    await pause(2 * HEARTBEAT_MS);
    const lines = (peer: RawPeer) => messages(peer).flatMap((frame) => (frame.message.groupEvent ? [] : [frame.message.text]));
    // The sender's own session has its messages from the answers; its other session, on another node, gets pushes.
    expect(lines(alice)).toEqual(['team only']);
    expect(lines(aliceElsewhere)).toEqual(['to the room', 'team only', 'last']);
    expect(lines(bob)).toEqual(['to the room', 'last']);
    expect(lines(carol)).toEqual(['to the room', 'bob to carol', 'last']);
    for (const peer of [alice, aliceElsewhere, bob, carol]) {
      const ids = messages(peer).map((frame) => frame.message.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    // The membership lines of the group reached its members on other nodes too, and only them.
    expect(texts(aliceElsewhere)).toContain('alice joined');
    expect(texts(carol)).toContain('alice joined');
    expect(texts(bob)).not.toContain('alice joined');
  });

  it('gives every session messages from several nodes in id order, as clients need them', async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!, 'alice');
    const bob = await user(b!, 'bob');
    const carol = await user(b!, 'carol');
    const dave = await user(a!, 'dave');
    const sends: Promise<ServerFrame>[] = [];
    for (let i = 0; i < 40; i += 1) {
      sends.push(alice.request('send', { clientMsgId: `a${i}`, to: { kind: 'room' }, text: `a${i}` }));
      sends.push(bob.request('send', { clientMsgId: `b${i}`, to: { kind: 'room' }, text: `b${i}` }));
    }
    for (const answer of await Promise.all(sends)) expect(answer).toMatchObject({ ok: true });
    const all = (await Promise.all(sends)).map((answer) => (answer as unknown as { result: { message: { id: number } } }).result.message.id).sort((x, y) => x - y);
    for (const peer of [alice, bob, carol, dave]) {
      await waitFor(() => idsSeen(peer).length === all.length, 'every message');
      // Strictly increasing: a client skips any id below one it holds (before issue 16, half of them here).
      expect(idsSeen(peer)).toEqual(all);
    }
  });

  it('gives every session the changes from several nodes in event order too', async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!, 'alice');
    const bob = await user(b!, 'bob');
    const carol = await user(b!, 'carol');
    const first = (await alice.request('send', { clientMsgId: 'v0', to: { kind: 'room' }, text: 'v0' })) as unknown as {
      result: { message: { id: number } };
    };
    const requests: Promise<ServerFrame>[] = [];
    for (let i = 1; i <= 30; i += 1) {
      requests.push(alice.request('edit', { messageId: first.result.message.id, text: `v${i}` }));
      requests.push(bob.request('send', { clientMsgId: `b${i}`, to: { kind: 'room' }, text: `b${i}` }));
    }
    for (const answer of await Promise.all(requests)) expect(answer).toMatchObject({ ok: true });
    const eventIds = (peer: RawPeer): number[] =>
      peer.frames.flatMap((frame) => (frame.type === 'message' ? [frame.eventId ?? 0] : frame.type === 'event' ? [frame.event.eventId] : []));
    await waitFor(() => eventIds(carol).length >= 61, 'every message and edit');
    // Clients skip an event id below one they hold: out of order, an edit would be lost.
    expect(eventIds(carol)).toEqual([...new Set(eventIds(carol))].sort((x, y) => x - y));
    expect(eventIds(carol)).toHaveLength(61);
  });

  it('pushes a message whose publish failed, read back from the database within a heartbeat', async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!, 'alice');
    const bob = await user(b!, 'bob');
    expect(Buffer.byteLength(TOO_LONG_FOR_NATS)).toBeGreaterThan(MAX_PAYLOAD);
    expect(await alice.request('send', { clientMsgId: 'long', to: { kind: 'room' }, text: TOO_LONG_FOR_NATS })).toMatchObject({ ok: true });
    expect(a!.logs.some((entry) => entry.event === 'bus publish failed' && entry.level === 'error')).toBe(true);
    await bob.waitFrame((frame) => frame.type === 'message' && frame.message.text === TOO_LONG_FOR_NATS);
    expect(texts(bob)).toEqual([TOO_LONG_FOR_NATS]);
  });

  it("answers a connection's requests in order while its send's acknowledgement waits for a lower id read back", async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!, 'alice');
    const bob = await user(b!, 'bob');
    // Node b never hears of this id: bob's next message, a higher id, waits until b has read it back.
    expect(await alice.request('send', { clientMsgId: 'lost', to: { kind: 'room' }, text: TOO_LONG_FOR_NATS })).toMatchObject({ ok: true });
    bob.write(
      Buffer.concat([
        encodeFrame({ type: 'send', id: 901, clientMsgId: 'after', to: { kind: 'room' }, text: 'after' }),
        encodeFrame({ type: 'history', id: 902, conv: 'room' }),
      ]),
    );
    const answers = (): ServerFrame[] => bob.frames.filter((frame) => frame.type === 'res' && frame.id >= 901);
    await waitFor(() => answers().length === 2, 'both answers');
    expect(answers().map((frame) => (frame as { id: number }).id)).toEqual([901, 902]);
  });

  /**
   * alice on one node; bob and carol on another, whose reads of a user's log go through `wrap` from
   * now on; alice's first message does not fit NATS, so that node reads it back for both of them.
   */
  async function readBack(wrap: (read: AsyncStore['eventsOfUsers']) => AsyncStore['eventsOfUsers'], readerNames = ['bob', 'carol']) {
    const [a, b] = await cluster(2);
    const alice = await user(a!, 'alice');
    const readers: RawPeer[] = [];
    for (const name of readerNames) readers.push(await user(b!, name));
    b!.store.eventsOfUsers = wrap(b!.store.eventsOfUsers.bind(b!.store));
    expect(await alice.request('send', { clientMsgId: 'lost', to: { kind: 'room' }, text: TOO_LONG_FOR_NATS })).toMatchObject({ ok: true });
    return { alice, readers, node: b! };
  }
  /** The room messages a reader was given, in order, once `last` has come. */
  async function readTexts(peer: RawPeer, last: string): Promise<string[]> {
    await peer.waitFrame((frame) => frame.type === 'message' && frame.message.text === last);
    return texts(peer).map((text) => (text === TOO_LONG_FOR_NATS ? 'the lost one' : text));
  }

  it('keeps later pushes back until a read-back range is written to every session, so no session gets it out of order', async () => {
    let readBackBegun: () => void = () => undefined;
    const begun = new Promise<void>((resolve) => (readBackBegun = resolve));
    // The read-back is slow.
    const { alice, readers } = await readBack((read) => async (...args) => {
      readBackBegun();
      await pause(300);
      return read(...args);
    });
    expect(await alice.request('send', { clientMsgId: 'one', to: { kind: 'room' }, text: 'one' })).toMatchObject({ ok: true });
    await begun;
    // Pushed while the node reads the range back.
    expect(await alice.request('send', { clientMsgId: 'two', to: { kind: 'room' }, text: 'two' })).toMatchObject({ ok: true });
    for (const peer of readers) expect(await readTexts(peer, 'two')).toEqual(['the lost one', 'one', 'two']);
  });

  it("counts a session's own send as reached only once its answer could be written: a clean close while a lower id is read back leaves the account's cursor below that id", async () => {
    let readBackBegun: () => void = () => undefined;
    const begun = new Promise<void>((resolve) => (readBackBegun = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { alice, readers, node } = await readBack(
      (read) => async (...args) => {
        readBackBegun();
        await released;
        return read(...args);
      },
      ['bob'],
    );
    const lost = idsSeen(alice).at(-1)!;
    const bob = readers[0]!;
    // bob's message is stored after the one node b never heard of; its answer waits for that one's read-back.
    bob.write(encodeFrame({ type: 'send', id: 901, clientMsgId: 'after', to: { kind: 'room' }, text: 'after' }));
    await alice.waitFrame((frame) => frame.type === 'message' && frame.message.text === 'after');
    await begun;
    // A clean close (the node stops) before the read-back ends: bob was never written the lost message.
    const stopping = node.stop();
    await bob.waitClosed();
    release();
    await stopping;
    const again = await RawPeer.open(nodes[0]!.port);
    peers.push(again);
    const login = (await again.login('bob')) as unknown as { result: { deliveredUpTo: number } };
    expect(login.result.deliveredUpTo).toBeLessThan(lost);
  });

  it('reads the range again when a read-back fails, and every session gets it once, in order', async () => {
    let reads = 0;
    const { alice, readers, node } = await readBack((read) => async (...args) => {
      reads += 1;
      if (reads === 1) throw new Error('the database went away for a moment');
      return read(...args);
    });
    expect(await alice.request('send', { clientMsgId: 'after', to: { kind: 'room' }, text: 'after' })).toMatchObject({ ok: true });
    for (const peer of readers) expect(await readTexts(peer, 'after')).toEqual(['the lost one', 'after']);
    expect(node.logs.some((entry) => entry.event === 'events not read back for the bus')).toBe(true);
  });

  it('reads a lost range back once while pushes keep coming, though the wait for its own commits outlasts the gap wait (issue 32, the operator load)', async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!, 'alice');
    const bob = await user(b!, 'bob');
    const carol = await user(b!, 'carol');
    // Bob's commit on node b is held: a read-back there first waits for it, while alice's pushes keep arriving.
    let unhold: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (unhold = resolve));
    const insert = b!.store.insertMessages.bind(b!.store);
    b!.store.insertMessages = async (messages) => {
      await held;
      return insert(messages);
    };
    const reads: number[] = [];
    const read = b!.store.eventsOfUsers.bind(b!.store);
    b!.store.eventsOfUsers = async (userIds, after, below) => {
      reads.push(after);
      await pause(500);
      return read(userIds, after, below);
    };
    const bobs = bob.request('send', { clientMsgId: 'bob', to: { kind: 'room' }, text: 'bob' });
    expect(await alice.request('send', { clientMsgId: 'lost', to: { kind: 'room' }, text: TOO_LONG_FOR_NATS })).toMatchObject({ ok: true });
    const sent: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      // The commit goes on in the middle of the stream: a gap wait begun just before it ends within the slow read.
      if (i === 20) unhold();
      sent.push(`m${i}`);
      expect(await alice.request('send', { clientMsgId: `m${i}`, to: { kind: 'room' }, text: `m${i}` })).toMatchObject({ ok: true });
      await pause(30);
    }
    await bobs;
    const alices = (peer: RawPeer) => texts(peer).filter((text) => text !== 'bob');
    expect(await readTexts(carol, 'm29').then(() => alices(carol).map((text) => (text === TOO_LONG_FOR_NATS ? 'the lost one' : text)))).toEqual(['the lost one', ...sent]);
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads).size).toBe(reads.length);
  });

  it('reads a lost range back once for all the users of a node, not once per user (issue 32, problem 6)', async () => {
    const names = Array.from({ length: 12 }, (_, index) => `reader${index}`);
    const reads: number[] = [];
    const { alice, readers, node } = await readBack((read) => async (userIds, after, below) => {
      reads.push(userIds.length);
      return read(userIds, after, below);
    }, names);
    let perUser = 0;
    const events = node.store.events.bind(node.store);
    node.store.events = (...args) => {
      perUser += 1;
      return events(...args);
    };
    expect(await alice.request('send', { clientMsgId: 'after', to: { kind: 'room' }, text: 'after' })).toMatchObject({ ok: true });
    for (const peer of readers) expect(await readTexts(peer, 'after')).toEqual(['the lost one', 'after']);
    expect(reads).toEqual([names.length]);
    expect(perUser).toBe(0);
  });

  it('counts new accounts and failed logins for the room, whichever node they reach', async () => {
    const [a, b, c] = await cluster(3, [], {
      limits: { registrationsPerMinute: 3, addressRegistrationsPerMinute: 10_000 },
      throttle: { freeFailures: 2, baseDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const watcher = await user(a!, 'watcher');
    const bob = await user(b!, 'bob');
    const carol = await user(c!, 'carol');
    // What a node counted reaches another before what it publishes next (NATS keeps one publisher's order).
    const heardOnA = async (peer: RawPeer, text: string): Promise<void> => {
      expect(await peer.request('send', { clientMsgId: text, to: { kind: 'room' }, text })).toMatchObject({ ok: true });
      await watcher.waitFrame((frame) => frame.type === 'message' && frame.message.text === text);
    };
    await heardOnA(bob, 'bob counted');
    await heardOnA(carol, 'carol counted');
    const dave = await RawPeer.open(a!.port);
    peers.push(dave);
    expect(await dave.login('dave')).toMatchObject({ ok: false, error: { code: ErrorCode.RATE_LIMITED, message: expect.stringContaining('in this room') } });

    // Two wrong guesses at bob's password, one on each other node, from an address bob never used.
    for (const node of [b!, c!]) {
      const guesser = await RawPeer.open(node.port, '127.0.0.2');
      peers.push(guesser);
      expect(await guesser.login('bob', 'guess')).toMatchObject({ ok: false, error: { code: ErrorCode.WRONG_PASSWORD } });
    }
    await heardOnA(bob, 'bob counted a failure');
    await heardOnA(carol, 'carol counted a failure');
    const third = await RawPeer.open(a!.port, '127.0.0.3');
    peers.push(third);
    expect(await third.login('bob', 'guess')).toMatchObject({ ok: false, error: { code: ErrorCode.TOO_MANY_ATTEMPTS } });
    // Bob's own address, where he logged in on node b, is not blocked by the guesses at his name on node a either.
    const bobOnA = await RawPeer.open(a!.port);
    peers.push(bobOnA);
    expect(await bobOnA.login('bob')).toMatchObject({ ok: true });
  });

  it('lets a client move to another node when its node stops mid-burst, with nothing lost or twice', async () => {
    const [a, b, c] = await cluster(3);
    const alternates = [b!, c!].map((node) => ({ host: '127.0.0.1', port: node.port }));
    const carol = await login({ address: { port: a!.port } }, 'carol', 'carol-secret', { alternates, random: () => 0 });
    clients.push(carol);
    const got = collectMessages(carol);
    const alice = await user(b!, 'alice');
    const sent: number[] = [];
    for (let i = 0; i < 60; i += 1) {
      if (i === 20) void a!.stop();
      const answer = (await alice.request('send', { clientMsgId: `m${i}`, to: { kind: 'room' }, text: `m${i}` })) as unknown as {
        result: { message: { id: number } };
      };
      sent.push(answer.result.message.id);
    }
    await waitFor(() => got.ids().length >= sent.length, 'carol to catch up on another node');
    expect(got.ids()).toEqual(sent);
  });

  it('forwards typing to the readers on other nodes', async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!, 'alice');
    const bob = await user(b!, 'bob');
    expect(await alice.request('typing', { conv: 'room' })).toMatchObject({ ok: true });
    await bob.waitFrame((frame) => frame.type === 'typing' && frame.user === 'alice');
  });

  it('shows a user online while on any node, and offline when their node stops', async () => {
    const [a, b, c] = await cluster(3);
    const alice = await user(a!, 'alice');
    const carol = await user(c!, 'carol');
    await alice.waitFrame(announces('carol', true));
    const carolOnB = await user(b!, 'carol');
    const users = (await alice.request('users')) as unknown as { result: { users: { name: string; online: boolean }[] } };
    expect(users.result.users.find((entry) => entry.name === 'carol')?.online).toBe(true);

    // Still on b: her leaving c changes nothing anyone sees.
    carol.destroy();
    await pause(3 * HEARTBEAT_MS);
    expect(presence(alice, 'carol')).toEqual([true]);

    await b!.stop();
    await alice.waitFrame(announces('carol', false));
    expect(presence(alice, 'carol')).toEqual([true, false]);
    expect(carolOnB.closed || (await carolOnB.waitClosed().then(() => true))).toBe(true);
  });

  it('kicks, bans and mutes a user connected to another node', async () => {
    const [a, b, c] = await cluster(3);
    const bob = await user(b!, 'bob');
    await a!.server.admin.kick('bob');
    expect(await bob.waitFrame((frame) => frame.type === 'bye')).toMatchObject({ error: { code: ErrorCode.KICKED } });

    const mallory = await user(c!, 'mallory');
    await a!.server.admin.mute('mallory');
    await mallory.waitFrame((frame) => frame.type === 'mute' && frame.muted);
    expect(await mallory.request('send', { clientMsgId: 'm1', to: { kind: 'room' }, text: 'spam' })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.MUTED },
    });
    await a!.server.admin.unmute('mallory');
    await mallory.waitFrame((frame) => frame.type === 'mute' && !frame.muted);
    expect(await mallory.request('send', { clientMsgId: 'm2', to: { kind: 'room' }, text: 'sorry' })).toMatchObject({ ok: true });

    await a!.server.admin.ban({ name: 'mallory' });
    expect(await mallory.waitFrame((frame) => frame.type === 'bye')).toMatchObject({ error: { code: ErrorCode.BANNED } });

    const eve = await user(b!, 'eve', '127.0.0.2');
    await a!.server.admin.ban({ address: '127.0.0.2' });
    expect(await eve.waitFrame((frame) => frame.type === 'bye')).toMatchObject({ error: { code: ErrorCode.BANNED } });
  });

  it('holds the mutes given before a node started, and each node changes only the mute it lifts', async () => {
    const [a, b] = await cluster(2);
    await user(a!, 'mallory');
    await user(a!, 'trudy');
    await a!.server.admin.mute('mallory');
    await b!.server.admin.mute('trudy');
    // b lifts trudy's mute: mallory's, which a stored, stays stored.
    await b!.server.admin.unmute('trudy');
    const late = await startNode(join(dir, `chat-${subject}.sqlite`), `lanchat.test${subject}`);
    nodes.push(late);
    const mallory = await user(late, 'mallory');
    expect(await mallory.waitFrame((frame) => frame.type === 'mute')).toEqual({ type: 'mute', muted: true });
    const trudy = await user(late, 'trudy');
    expect(await trudy.request('send', { clientMsgId: 't1', to: { kind: 'room' }, text: 'free' })).toMatchObject({ ok: true });
  });

  it('ends the sessions of a changed password on the other nodes, and keeps the changing one', async () => {
    const [a, b] = await cluster(2);
    const bob = await user(a!, 'bob');
    const bobElsewhere = await user(b!, 'bob');
    expect(await bob.request('changePassword', { current: 'bob-secret', password: 'new-secret' })).toMatchObject({ ok: true });
    expect(await bobElsewhere.waitFrame((frame) => frame.type === 'bye')).toMatchObject({ error: { code: ErrorCode.PASSWORD_CHANGED } });
    expect(bob.closed).toBe(false);
  });

  it('counts times from the database clock on a node whose own clock is an hour off, and warns of it (issue 32, problem 5)', async () => {
    const HOUR_MS = 3_600_000;
    const [a, b] = await cluster(2, [0, HOUR_MS]);
    expect(b!.logs.find((entry) => entry.event === 'clock skew')).toMatchObject({ level: 'warn' });
    expect(Math.abs(b!.server.clock.offset + HOUR_MS)).toBeLessThan(5_000);
    expect(a!.logs.some((entry) => entry.event === 'clock skew')).toBe(false);
    const carol = await user(a!, 'carol');
    const dave = await user(b!, 'dave');
    // A 30-minute mute given on the skewed node lasts 30 minutes on every node, not 90.
    await b!.server.admin.mute('carol', 30);
    const mute = (await carol.waitFrame((frame) => frame.type === 'mute')) as { until?: number };
    expect(Math.abs(mute.until! - Date.now() - 30 * 60_000)).toBeLessThan(10_000);
    expect(await carol.request('send', { clientMsgId: 'm', to: { kind: 'room' }, text: 'hi' })).toMatchObject({
      ok: false,
      error: { code: ErrorCode.MUTED, message: expect.stringContaining('in 30 min') },
    });
    // A message stored through the skewed node carries the room's time.
    const sent = (await dave.request('send', { clientMsgId: 'd', to: { kind: 'room' }, text: 'now' })) as { result: { message: { ts: number } } };
    expect(Math.abs(sent.result.message.ts - Date.now())).toBeLessThan(10_000);
  });

  it('ends with the same member list everywhere when invitees on two nodes accept at once (issue 32, problem 4)', async () => {
    const [a, b] = await cluster(2);
    const owner = await user(a!, 'olga');
    const xena = await user(a!, 'xena');
    const yann = await user(b!, 'yann');
    const created = (await owner.request('groupCreate', { name: 'Both', members: ['xena', 'yann'] })) as { result: { group: { id: number } } };
    const groupId = created.result.group.id;
    // Node a reads the group after xena's accept before yann's commit, and its push goes out only after node b's.
    let stall = false;
    const memberIds = a!.store.memberIds.bind(a!.store);
    a!.store.memberIds = async (id) => {
      const ids = await memberIds(id);
      if (stall) {
        stall = false;
        await pause(400);
      }
      return ids;
    };
    stall = true;
    const [x, y] = await Promise.all([
      xena.request('groupAnswer', { groupId, accept: true }),
      pause(100).then(() => yann.request('groupAnswer', { groupId, accept: true })),
    ]);
    expect([x, y]).toMatchObject([{ ok: true }, { ok: true }]);
    const lastMembers = (peer: RawPeer): string[] | undefined =>
      (peer.frames.filter((frame) => frame.type === 'group' && frame.group.id === groupId).at(-1) as { group: { members: string[] } } | undefined)?.group.members;
    const everyone = ['olga', 'xena', 'yann'];
    await waitFor(() => [owner, xena, yann].every((peer) => lastMembers(peer)?.join() === everyone.join()), 'every member to hear of all three');
    // And stays so: nothing stale comes after.
    await pause(600);
    for (const peer of [owner, xena, yann]) expect(lastMembers(peer)).toEqual(everyone);
  });

  it('refuses an edit, reaction or read whose member another node removed between its check and its commit (issue 32, item 2)', async () => {
    const [a, b] = await cluster(2);
    const mia = await user(a!, 'mia');
    const olga = await user(b!, 'olga');
    const created = (await olga.request('groupCreate', { name: 'Gate', members: ['mia'] })) as { result: { group: { id: number; conv: string } } };
    const { id: groupId, conv } = created.result.group;
    expect(await mia.request('groupAnswer', { groupId, accept: true })).toMatchObject({ ok: true });
    const sent = async (peer: RawPeer, text: string): Promise<number> =>
      ((await peer.request('send', { clientMsgId: text, to: { kind: 'group', groupId }, text })) as { result: { message: { id: number } } }).result.message.id;
    const mine = await sent(mia, 'mine');
    const hers = await sent(olga, 'hers');
    // Node a's changes wait, after their checks, until olga has removed mia on node b.
    let removed: () => void = () => undefined;
    const removal = new Promise<void>((resolve) => (removed = resolve));
    const store = a!.store;
    const [edit, react, read] = [store.editMessage.bind(store), store.setReaction.bind(store), store.setReadPosition.bind(store)];
    store.editMessage = async (...args) => removal.then(() => edit(...args));
    store.setReaction = async (...args) => removal.then(() => react(...args));
    store.setReadPosition = async (...args) => removal.then(() => read(...args));
    const answers = Promise.all([
      mia.request('edit', { messageId: mine, text: 'changed' }),
      mia.request('react', { messageId: hers, emoji: '👍', on: true }),
      mia.request('read', { conv, upTo: hers }),
    ]);
    await pause(100);
    expect(await olga.request('groupRemoveMember', { groupId, user: 'mia' })).toMatchObject({ ok: true });
    removed();
    const [edited, reacted, readMark] = await answers;
    expect(edited).toMatchObject({ ok: false, error: { code: ErrorCode.UNKNOWN_MESSAGE } });
    expect(reacted).toMatchObject({ ok: false, error: { code: ErrorCode.UNKNOWN_MESSAGE } });
    expect(readMark).toMatchObject({ ok: false, error: { code: ErrorCode.UNKNOWN_CONVERSATION } });
    const history = (await olga.request('history', { conv, limit: 50 })) as { result: { messages: { id: number; text: string; reactions?: unknown }[] } };
    expect(history.result.messages.find((message) => message.id === mine)?.text).toBe('mine');
    expect(history.result.messages.find((message) => message.id === hers)?.reactions).toBeUndefined();
  });

  it('answers a send before pushing a higher id from another node, though the wait for it read the range back (§10.3, issue 32 problem 2)', async () => {
    const [a, b] = await cluster(2);
    const carol = await user(a!, 'carol');
    const dave = await user(a!, 'dave');
    const bob = await user(b!, 'bob');
    // Carol's commit on node a is stored, then its node is slow to go on (a long pause of its event loop's
    // turn, say): bob's next message on node b comes over the bus meanwhile, and node a reads back the gap below it.
    let committed: () => void = () => undefined;
    const stored = new Promise<void>((resolve) => (committed = resolve));
    let slow = true;
    const insert = a!.store.insertMessages.bind(a!.store);
    a!.store.insertMessages = async (messages) => {
      const results = await insert(messages);
      if (slow) {
        slow = false;
        committed();
        await pause(4 * HEARTBEAT_MS);
      }
      return results;
    };
    const sending = carol.request('send', { clientMsgId: 'mine', to: { kind: 'room' }, text: 'mine' });
    await stored;
    expect(await bob.request('send', { clientMsgId: 'later', to: { kind: 'room' }, text: 'later' })).toMatchObject({ ok: true });
    const answer = (await sending) as { result: { message: { id: number } } };
    await carol.waitFrame((frame) => frame.type === 'message' && frame.message.text === 'later');
    const mine = answer.result.message.id;
    // Carol gets her own message as the answer, not as a push, and before the higher id.
    expect(idsSeen(carol)).toEqual([mine, mine + 1]);
    expect(messages(carol).map((frame) => frame.message.text)).toEqual(['later']);
    await dave.waitFrame((frame) => frame.type === 'message' && frame.message.text === 'later');
    expect(texts(dave)).toEqual(['mine', 'later']);
  });

  it('answers a send again as a duplicate only after every lower id reached the connection, on a node that has not pushed it yet (§10.3, a move between nodes)', async () => {
    const [a, b] = await cluster(2);
    const dave = await user(a!, 'dave');
    const alice = await user(a!, 'alice');
    // Alice's link to node a is gone before the answer; her app logs in on node b and sends it again.
    const aliceOnB = await user(b!, 'alice');
    // Neither push fits NATS: node b learns of both only by reading them back.
    const lower = (await dave.request('send', { clientMsgId: 'lower', to: { kind: 'room' }, text: TOO_LONG_FOR_NATS })) as { result: { message: { id: number } } };
    const first = (await alice.request('send', { clientMsgId: 'mine', to: { kind: 'room' }, text: `${TOO_LONG_FOR_NATS.slice(1)}!` })) as { result: { message: { id: number } } };
    const again = (await aliceOnB.request('send', { clientMsgId: 'mine', to: { kind: 'room' }, text: `${TOO_LONG_FOR_NATS.slice(1)}!` })) as { result: { message: { id: number }; duplicate: boolean } };
    const mine = first.result.message.id;
    expect(again.result).toMatchObject({ duplicate: true, message: { id: mine } });
    // Her app takes the answer's id as seen: dave's lower one must not come after it.
    const seen = idsSeen(aliceOnB);
    expect(seen.indexOf(lower.result.message.id)).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf(lower.result.message.id)).toBeLessThan(seen.lastIndexOf(mine));
  });

  it('keeps serving each node alone while NATS is down, and joins up again when it is back', async () => {
    const [a, b] = await cluster(2);
    const alice = await user(a!, 'alice');
    const aliceFriend = await user(a!, 'dave');
    const bob = await user(b!, 'bob');
    await alice.waitFrame(announces('bob', true));

    await nats.stop();
    await waitFor(() => a!.logs.some((entry) => entry.event === 'bus disconnected' && entry.level === 'error'), 'the loss logged');
    // Unheard for NODE_SILENT_HEARTBEATS heartbeats, the other node counts as gone: bob is offline to alice.
    await alice.waitFrame(announces('bob', false), (NODE_SILENT_HEARTBEATS + 10) * HEARTBEAT_MS);
    expect(await alice.request('send', { clientMsgId: 'alone', to: { kind: 'room' }, text: 'still here' })).toMatchObject({ ok: true });
    await aliceFriend.waitFrame((frame) => frame.type === 'message' && frame.message.text === 'still here');
    // Bob's node never heard of alice's message; its next id shows the gap, and it reads the message from the database.
    expect(await bob.request('send', { clientMsgId: 'b-alone', to: { kind: 'room' }, text: 'b alone' })).toMatchObject({ ok: true });
    expect(texts(bob)).toEqual(['still here']);
    expect(b!.logs.some((entry) => entry.event === 'events read back for the bus')).toBe(true);

    await nats.start();
    await waitFor(() => a!.logs.some((entry) => entry.event === 'bus reconnected'), 'the bus back');
    await waitFor(() => presence(alice, 'bob').at(-1) === true, 'bob online again');
    expect(await alice.request('send', { clientMsgId: 'again', to: { kind: 'room' }, text: 'together again' })).toMatchObject({ ok: true });
    await bob.waitFrame((frame) => frame.type === 'message' && frame.message.text === 'together again');
  });
});
