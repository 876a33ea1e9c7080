/**
 * The client against a scripted server on a real loopback socket: frames that
 * break the protocol close the connection with a reason instead of reaching the app.
 */
import { type AddressInfo, type Server, createServer } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { Connection } from '../net/connection.js';
import { ConnectionScheduler } from '../net/scheduler.js';
import { LinkProxy } from '../testing/checker/proxy.js';
import { nextEvent, waitFor } from '../testing/harness.js';
import { freePort } from '../testing/ports.js';
import { Room } from '../testing/room.js';
import { ChatClient } from './client.js';

type Answer = (request: { type: string; id: number }) => unknown;

const room = {
  hello: { protocol: '1.0', server: 'scripted', room: 'Lab', heartbeatMs: 60_000, maxFrameBytes: 1 << 20, maxTextLength: 8000 },
  login: { name: 'alice', registered: false, token: 't'.repeat(43), lastMessageId: 0, deliveredUpTo: 0 },
  sync: { messages: [], hasMore: false },
};

const servers: Server[] = [];
const clients: ChatClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  vi.restoreAllMocks();
});

/** A server that answers hello, login and sync like a room, and anything else with `answer`; `afterLogin` runs once logged in. */
async function scriptedServer(
  answer: Answer,
  afterLogin: (connection: Connection) => void = () => undefined,
  script: Partial<typeof room> = {},
): Promise<number> {
  const answers = { ...room, ...script };
  const server = createServer((socket) => {
    const connection = new Connection(socket, { maxFrameBytes: 1 << 20, maxQueuedBytes: 1 << 20, scheduler: new ConnectionScheduler() });
    connection.onFrame((frame) => {
      if (frame.kind !== 'frame') return;
      const request = frame.value as { type: string; id: number };
      if (request.type === 'ping' || request.type === 'pong') return;
      const result = request.type in answers ? answers[request.type as keyof typeof answers] : answer(request);
      // `{ fail: code }` answers with that error instead of a result.
      const fail = (result as { fail?: string } | undefined)?.fail;
      if (fail) connection.send({ type: 'res', id: request.id, ok: false, error: { code: fail, message: 'scripted' } });
      else connection.send({ type: 'res', id: request.id, ok: true, result });
      if (request.type === 'sync') afterLogin(connection);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function connect(port: number): Promise<{ client: ChatClient; offline: Promise<WireError | null> }> {
  const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, reconnect: false });
  clients.push(client);
  const offline = new Promise<WireError | null>((resolve) => client.once('offline', resolve));
  await client.connect();
  return { client, offline };
}

describe('ChatClient and frames that break the protocol', () => {
  it('refuses a result that does not match its request, and closes the connection saying why', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await scriptedServer(() => ({ users: [{ name: 'bob', online: 'yes', lastSeen: null }] }));
    const { client, offline } = await connect(port);

    await expect(client.request('users')).rejects.toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(/users\.0\.online/) });
    expect(await offline).toMatchObject({ code: ErrorCode.BAD_FRAME, message: expect.stringMatching(/result of users: users\.0\.online/) });
    expect(client.state).toBe('closed');
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/the server broke the protocol/));
  });

  it('refuses a push with a wrong field, and never passes it on', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await scriptedServer(
      () => ({}),
      (connection) => connection.send({ type: 'presence', users: [{ user: 'bob', online: true, ts: 'now' }] }),
    );
    const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, reconnect: false });
    clients.push(client);
    const presence = vi.fn();
    client.on('presence', presence);
    const offline = new Promise<WireError | null>((resolve) => client.once('offline', resolve));
    await client.connect();

    expect(await offline).toMatchObject({ code: ErrorCode.BAD_FRAME, message: expect.stringMatching(/a presence push: users\.0\.ts: /) });
    expect(presence).not.toHaveBeenCalled();
  });

  it('ignores push types it does not know and fields it does not know, as a later 1.x server may send them', async () => {
    const port = await scriptedServer(
      () => ({ contacts: [] }),
      (connection) => {
        connection.send({ type: 'sticker', user: 'bob' });
        connection.send({ type: 'presence', users: [{ user: 'bob', online: true, ts: 5, device: 'phone' }], more: 1 });
      },
    );
    const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, reconnect: false });
    clients.push(client);
    const presence = new Promise((resolve) => client.once('presence', resolve));
    await client.connect();

    expect(await presence).toEqual({ type: 'presence', users: [{ user: 'bob', online: true, ts: 5 }] });
    await expect(client.request('contacts')).resolves.toEqual({ contacts: [] });
    expect(client.state).toBe('online');
  });
});

describe('ChatClient and the limits hello announces', () => {
  it('pages its catch-up and checks message lengths by the host’s limits, not its own constants', async () => {
    const limits = {
      maxFrameBytes: 1 << 20, maxQueuedBytes: 1 << 23, maxTextLength: 10, maxClientMsgIdLength: 64, maxNameLength: 32,
      maxGroupNameLength: 48, maxPasswordLength: 256, maxPassphraseLength: 256, maxSearchLength: 200, maxPageSize: 20,
      defaultPageSize: 20, maxGroupsPerOwner: 20, maxGroupMembers: 100, maxPendingAccounts: 50, maxUserBytesPerDay: null,
      heartbeatMs: 60_000, loginTimeoutMs: 30_000, frameTimeoutMs: 30_000, maxBadFrames: 10, expensiveRequestsPerUser: 2,
      freeLoginFailures: 5, loginDelayMs: 1000, maxLoginDelayMs: 300_000, frameRate: null, byteRate: null,
      accountLoginRate: { perMinute: 20, burst: 20 }, registrationRate: { perMinute: 30, burst: 30 },
      addressRegistrationRate: { perMinute: 5, burst: 5 }, editWindowMs: null, typingIntervalMs: 3000, maxReactionsPerUser: 20,
    };
    const syncLimits: unknown[] = [];
    const port = await scriptedServer(
      () => ({}),
      () => undefined,
      { hello: { ...room.hello, protocol: '1.1', limits } as typeof room.hello },
    );
    const server = servers.at(-1)!;
    server.on('connection', (socket) =>
      socket.on('data', (chunk: Buffer) => {
        for (const match of chunk.toString('utf8').matchAll(/"type":"sync".*?"limit":(\d+)/g)) syncLimits.push(Number(match[1]));
      }),
    );
    const { client } = await connect(port);
    expect(syncLimits).toEqual([20]);
    expect(client.limits).toMatchObject({ maxTextLength: 10, maxPageSize: 20 });
    await expect(client.send({ kind: 'room' }, '12345678901')).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
  });
});

describe('ChatClient’s back-off', () => {
  /** Logs in, lets the scripted host drop the link (`drop`) and stop listening, and returns the waits of the next `attempts` reconnects. */
  async function waitsAfter(drop: (connection: Connection) => void, attempts: number): Promise<number[]> {
    let dropLink: () => void = () => undefined;
    const port = await scriptedServer(() => ({}), (connection) => (dropLink = () => drop(connection)));
    const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, backoffMinMs: 20, backoffMaxMs: 2000 });
    clients.push(client);
    await client.connect();
    const server = servers.pop()!;
    // Nothing listens any more: every attempt is refused, as while a host restarts.
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      dropLink();
    });
    const waits: number[] = [];
    await new Promise<void>((resolve) =>
      client.on('reconnecting', ({ delayMs }) => {
        waits.push(delayMs);
        if (waits.length === attempts) resolve();
      }),
    );
    client.close();
    return waits;
  }

  it('keeps trying at its first back-off, with jitter, after the host said it stopped (a restart)', async () => {
    const waits = await waitsAfter((connection) => connection.close({ code: ErrorCode.SERVER_SHUTDOWN, message: 'the host stopped the server' }), 8);
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(10);
      expect(wait).toBeLessThanOrEqual(20);
    }
  });

  it('doubles its back-off after a link that dropped without a word', async () => {
    const waits = await waitsAfter((connection) => connection.destroy(null), 6);
    // Half to all of 20, 40, 80, 160, 320, 640 ms.
    waits.forEach((wait, index) => {
      expect(wait).toBeGreaterThanOrEqual(10 * 2 ** index);
      expect(wait).toBeLessThanOrEqual(20 * 2 ** index);
    });
  });
});

describe('ChatClient coming back', () => {
  // The history checker found it (a login failed while the cluster's PostgreSQL restarted): the link of the
  // failed attempt closed after the next attempt was scheduled, and its close cancelled that attempt.
  it('tries again after an attempt the host refused on a link it left open (a login it failed)', async () => {
    let logins = 0;
    let dropLink: () => void = () => undefined;
    const server = createServer((socket) => {
      const connection = new Connection(socket, { maxFrameBytes: 1 << 20, maxQueuedBytes: 1 << 20, scheduler: new ConnectionScheduler() });
      connection.onFrame((frame) => {
        if (frame.kind !== 'frame') return;
        const { type, id } = frame.value as { type: keyof typeof room; id: number };
        if (type === 'login' && ++logins === 2) connection.send({ type: 'res', id, ok: false, error: { code: ErrorCode.INTERNAL, message: 'the database is down' } });
        else if (type in room) connection.send({ type: 'res', id, ok: true, result: room[type] });
        if (type === 'sync') dropLink = () => connection.destroy(null);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new ChatClient({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, name: 'alice', password: 'pw', tls: false, backoffMinMs: 20, backoffMaxMs: 40 });
    clients.push(client);
    await client.connect();
    dropLink();
    await waitFor(() => logins === 3 && client.state === 'online', 'a third login, after the refused second');
  });

  // The history checker found it on a machine loaded past 30: each send answered after the request timeout
  // went again on the same link, behind the first; its answer, late too, was dropped, and the backlog grew.
  it('waits on its link for a send answered after the request timeout, and sends it once', async () => {
    const sends: string[] = [];
    const server = createServer((socket) => {
      const connection = new Connection(socket, { maxFrameBytes: 1 << 20, maxQueuedBytes: 1 << 20, scheduler: new ConnectionScheduler() });
      connection.onFrame((frame) => {
        if (frame.kind !== 'frame') return;
        const request = frame.value as { type: string; id: number; clientMsgId?: string };
        if (request.type in room) connection.send({ type: 'res', id: request.id, ok: true, result: room[request.type as keyof typeof room] });
        else if (request.type === 'ping') connection.send({ type: 'pong' });
        else if (request.type === 'send') {
          sends.push(request.clientMsgId!);
          const message = { id: 7, conv: 'room', from: 'alice', text: 'hi', ts: 1, clientMsgId: request.clientMsgId };
          setTimeout(() => connection.send({ type: 'res', id: request.id, ok: true, result: { message, duplicate: false, delivered: false } }), 1500);
        }
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new ChatClient({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, name: 'alice', password: 'pw', tls: false, requestTimeoutMs: 200 });
    clients.push(client);
    await client.connect();

    await expect(client.send({ kind: 'room' }, 'hi')).resolves.toMatchObject({ id: 7 });
    expect(sends).toHaveLength(1);
    expect(client.unsent).toEqual([]);
  });

  // The history checker once saw one user's sends unanswered for good while the link stayed up: a link whose
  // pushes keep coming but whose own requests (pings included) get no answer is no longer served.
  it('leaves a link that keeps pushing but answers neither its requests nor its pings, and sends the outbox on the next', async () => {
    const links: Connection[] = [];
    const server = createServer((socket) => {
      const connection = new Connection(socket, { maxFrameBytes: 1 << 20, maxQueuedBytes: 1 << 20, scheduler: new ConnectionScheduler() });
      const link = links.push(connection);
      const pushing = setInterval(() => connection.send({ type: 'ping' }), 20);
      connection.onClose(() => clearInterval(pushing));
      connection.onFrame((frame) => {
        if (frame.kind !== 'frame') return;
        const request = frame.value as { type: string; id: number; clientMsgId?: string };
        const answers: Record<string, unknown> = { ...room, hello: { ...room.hello, heartbeatMs: 400 } };
        if (request.type in answers) connection.send({ type: 'res', id: request.id, ok: true, result: answers[request.type] });
        // The first link's session is stuck: nothing else of it is answered, its pings neither.
        else if (link === 1) return;
        else if (request.type === 'ping') connection.send({ type: 'pong' });
        else if (request.type === 'send') connection.send({ type: 'res', id: request.id, ok: true, result: { message: { id: 7, conv: 'room', from: 'alice', text: 'hi', ts: 1, clientMsgId: request.clientMsgId }, duplicate: false, delivered: false } });
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new ChatClient({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, name: 'alice', password: 'pw', tls: false, backoffMinMs: 20, backoffMaxMs: 40 });
    clients.push(client);
    const offline = nextEvent(client, 'offline', () => true, 30_000);
    await client.connect();

    const sent = client.send({ kind: 'room' }, 'hi');
    sent.catch(() => undefined);
    expect((await offline)[0]).toMatchObject({ code: ErrorCode.HEARTBEAT_TIMEOUT });
    await expect(sent).resolves.toMatchObject({ id: 7 });
    expect(links).toHaveLength(2);
  });
});

/**
 * A 1.1 room that answers no request of a connection until it has three, or a while passed (a client
 * that waits for each answer sends one): `beforeAnswers` lists, per connection, the requests it had by then.
 * `loginOf` and `pageOf` answer login and events on the connection with that index.
 */
async function holdingServer(
  loginOf: (link: number) => typeof room.login & { lastEventId: number },
  pageOf: (link: number) => unknown,
): Promise<{ port: number; beforeAnswers: string[][]; links: Connection[] }> {
  const hello = { ...room.hello, protocol: '1.1' };
  const beforeAnswers: string[][] = [];
  const links: Connection[] = [];
  const server = createServer((socket) => {
    const connection = new Connection(socket, { maxFrameBytes: 1 << 20, maxQueuedBytes: 1 << 20, scheduler: new ConnectionScheduler() });
    const link = links.push(connection) - 1;
    const received: string[] = [];
    beforeAnswers.push(received);
    const held: { type: string; id: number }[] = [];
    let answering = false;
    const answer = (request: { type: string; id: number }): void => {
      const result = { hello, login: loginOf(link), sync: room.sync, events: pageOf(link) }[request.type];
      connection.send({ type: 'res', id: request.id, ok: true, result });
    };
    const release = (): void => {
      answering = true;
      for (const request of held.splice(0)) answer(request);
    };
    const timer = setTimeout(release, 300);
    connection.onFrame((frame) => {
      if (frame.kind !== 'frame') return;
      const request = frame.value as { type: string; id: number };
      if (request.type === 'ping' || request.type === 'pong') return;
      if (answering) return answer(request);
      received.push(request.type);
      held.push(request);
      if (held.length === 3) {
        clearTimeout(timer);
        release();
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, beforeAnswers, links };
}

/** Logs in, has the server drop the link, and resolves once the client is back online, with the message ids it emitted meanwhile. */
/** A host of this test's own and a relay before it, whose links the test can cut; both end with the test. */
async function roomBehindRelay(): Promise<{ room: Room; proxy: LinkProxy }> {
  const room = new Room();
  onTestFinished(() => room.cleanup());
  await room.start();
  const proxy = await LinkProxy.start(await freePort(), () => room.port);
  onTestFinished(() => proxy.close());
  return { room, proxy };
}

async function dropAndReturn(port: number, links: Connection[]): Promise<{ client: ChatClient; messages: number[] }> {
  const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, backoffMinMs: 20 });
  clients.push(client);
  await client.connect();
  const messages: number[] = [];
  client.on('message', (message) => messages.push(message.id));
  const back = new Promise((resolve) => client.once('online', resolve));
  links[0]!.destroy(null);
  await back;
  return { client, messages };
}

const missed = { id: 6, conv: 'room', from: 'bob', text: 'while you were away', ts: 7, clientMsgId: 'b-6' };

describe('ChatClient logging in', () => {
  it('sends hello and login at once, and on a return its first catch-up page with them, taking what that page holds', async () => {
    const { port, beforeAnswers, links } = await holdingServer(
      () => ({ ...room.login, lastEventId: 5 }),
      (link) => ({ events: link > 0 ? [{ eventId: 6, kind: 'message', message: missed }] : [], hasMore: false }),
    );
    const { client, messages } = await dropAndReturn(port, links);
    // The first login has no event cursor yet: it catches up by sync once it knows the server's log.
    expect(beforeAnswers).toEqual([
      ['hello', 'login'],
      ['hello', 'login', 'events'],
    ]);
    expect(messages).toEqual([6]);
    expect(client.lastEventId).toBe(6);
  });

  it('does not use that page from a host whose log ends before its cursor (its data was replaced), and syncs instead', async () => {
    const { port, beforeAnswers, links } = await holdingServer(
      // Back with a log of 2 entries where the client had seen 5.
      (link) => ({ ...room.login, lastEventId: link === 0 ? 5 : 2 }),
      () => ({ events: [{ eventId: 6, kind: 'message', message: missed }], hasMore: false }),
    );
    const { client, messages } = await dropAndReturn(port, links);
    expect(beforeAnswers[1]).toEqual(['hello', 'login', 'events']);
    expect(messages).toEqual([]);
    expect(client.lastEventId).toBe(2);
  });
});

describe('ChatClient and its own messages (issue 32, problem 3)', () => {
  const mine = (id: number, clientMsgId: string) => ({ id, conv: 'room', from: 'alice', text: 'hi', ts: 1, clientMsgId });
  const bobs = { id: 10, conv: 'room', from: 'bob', text: 'later', ts: 2, clientMsgId: 'b1' };

  it('shows its own message answered with an id below one already pushed (a duplicate, or an answer overtaken on a cluster)', async () => {
    let bobSeen: () => void = () => undefined;
    const pushed = new Promise<void>((resolve) => (bobSeen = resolve));
    const port = await scriptedServer(
      (request) => ({ message: mine(5, (request as unknown as { clientMsgId: string }).clientMsgId), duplicate: true, delivered: false }),
      (connection) => connection.send({ type: 'message', message: bobs }),
    );
    const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, reconnect: false });
    clients.push(client);
    const shown: number[] = [];
    client.on('message', (message) => {
      shown.push(message.id);
      if (message.id === 10) bobSeen();
    });
    await client.connect();
    await pushed;
    await expect(client.send({ kind: 'room' }, 'hi')).resolves.toMatchObject({ id: 5 });
    expect(shown).toEqual([10, 5]);
  });

  it('shows its own message once when the catch-up after a lost answer brought it before the resend was answered', async () => {
    const { room, proxy } = await roomBehindRelay();
    const bob = await room.user('bob');
    const alice = room.track(new ChatClient({ host: '127.0.0.1', port: proxy.port, name: 'alice', password: 'alice-secret', backoffMinMs: 50, backoffMaxMs: 300 }));
    await alice.connect();
    const shown: number[] = [];
    alice.on('message', (message) => shown.push(message.id));
    const storedFor = nextEvent(bob, 'message', (message) => message.text === 'answer lost');
    proxy.muteHost();
    const sending = alice.send({ kind: 'room' }, 'answer lost');
    const [stored] = await storedFor;
    // The link goes with the answer in it; the next one catches up from before the message, then resends it.
    proxy.close();
    await proxy.listen();
    await expect(sending).resolves.toMatchObject({ id: stored.id });
    await waitFor(() => alice.unsent.length === 0);
    expect(shown).toEqual([stored.id]);
  });

  it('shows, after a token login with its event cursor, a message the host wrote to its last connection that never arrived (issue 32, item 7)', async () => {
    const { room, proxy } = await roomBehindRelay();
    const bob = await room.user('bob');
    const before = room.track(new ChatClient({ host: '127.0.0.1', port: proxy.port, name: 'alice', password: 'alice-secret', reconnect: false }));
    await before.connect();
    // The host writes bob's message to alice's link (so its record of how far she got passes it), and the bytes are lost.
    proxy.muteHost();
    const message = await bob.send({ kind: 'room' }, 'written, never read');
    const { sessionToken: token, lastEventId } = before;
    before.close();
    await room.gone('alice');
    // As the app starts again (core/link.ts): the saved token, event cursor and outbox, no message cursor.
    const after = room.track(new ChatClient({ host: '127.0.0.1', port: room.port, name: 'alice', token: token!, lastEventId }));
    const shown: number[] = [];
    after.on('message', (m) => shown.push(m.id));
    await after.connect();
    expect(shown).toEqual([message.id]);
  });

  it('keeps a send the host failed with INTERNAL and sends it again, with the same client id, until stored', async () => {
    const clientIds: string[] = [];
    const port = await scriptedServer((request) => {
      const { clientMsgId } = request as unknown as { clientMsgId: string };
      clientIds.push(clientMsgId);
      if (clientIds.length < 3) return { fail: ErrorCode.INTERNAL };
      return { message: mine(7, clientMsgId), duplicate: false, delivered: false };
    });
    const { client } = await connect(port);
    const shown: number[] = [];
    client.on('message', (message) => shown.push(message.id));
    await expect(client.send({ kind: 'room' }, 'hi')).resolves.toMatchObject({ id: 7 });
    expect(clientIds).toHaveLength(3);
    expect(new Set(clientIds).size).toBe(1);
    expect(shown).toEqual([7]);
    expect(client.unsent).toEqual([]);
  });

  // The history checker found it: a 1.5 s PostgreSQL restart failed a dozen queued sends at once, each counted
  // as a failure in a row, and the next resend waited 26 s, the cap, instead of half a second.
  it('doubles its back-off per round of resends the host failed, however many sends the round held', async () => {
    const tries = new Map<string, number>();
    const port = await scriptedServer((request) => {
      const { clientMsgId } = request as unknown as { clientMsgId: string };
      tries.set(clientMsgId, (tries.get(clientMsgId) ?? 0) + 1);
      if (tries.get(clientMsgId)! <= 2) return { fail: ErrorCode.INTERNAL };
      return { message: mine(tries.size, clientMsgId), duplicate: false, delivered: false };
    });
    const { client } = await connect(port);
    const waits: number[] = [];
    const twoRounds = new Promise<void>((resolve) =>
      client.on('sendRetrying', ({ retryInMs }) => {
        waits.push(retryInMs);
        if (waits.length === 12) resolve();
      }),
    );
    for (let i = 0; i < 6; i++) client.send({ kind: 'room' }, 'hi', `m${i}`).catch(() => undefined);
    await twoRounds;
    // Half to all of failedRetryMs's first back-off (250 ms) after the first round, of twice that after the second.
    expect(Math.max(...waits.slice(0, 6))).toBeLessThanOrEqual(250);
    expect(Math.max(...waits.slice(6))).toBeLessThanOrEqual(500);
  });
});
