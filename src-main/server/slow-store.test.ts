/**
 * The server over a store that really waits (a real SQLite store behind random delays, see
 * testing/slow-store.ts): what SQLite answering at once kept correct by itself must stay so.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { ServerFrame } from '../../src-shared/protocol/pushes.js';
import { openAsyncStore } from '../store/async-store.js';
import type { AsyncStore } from '../store/types.js';
import { RawPeer, TEST_PASSWORD_COST, presenceIn, removeDir, tempDir, waitFor } from '../testing/harness.js';
import { seededRandom } from '../testing/prng.js';
import { type SlowerCalls, slowStore } from '../testing/slow-store.js';
import { encodeFrame } from '../net/frame.js';
import { ServerLog } from './log.js';
import { ChatServer, type ServerOptions } from './server.js';

/** Up to this long before a store call and again after it. */
const MAX_DELAY_MS = 8;

let dir: string;
let store: AsyncStore;
let log: ServerLog;
let server: ChatServer;
let port: number;
const peers: RawPeer[] = [];

let seed = 0;

beforeEach((context) => {
  dir = tempDir();
  store = openAsyncStore(join(dir, 'chat.sqlite'));
  log = new ServerLog(join(dir, 'server.log'));
  seed = [...context.task.name].reduce((sum, char) => sum + char.charCodeAt(0), 0);
});

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.destroy();
  await server.close();
  await store.close();
  log.close();
  removeDir(dir);
});

/** The store the server gets: by default the slow one, with `slower` added to the named calls. */
async function start(
  slower: SlowerCalls = {},
  storeFor = (real: AsyncStore) => slowStore(real, seededRandom(seed), MAX_DELAY_MS, slower),
  options: Partial<ServerOptions> = {},
): Promise<void> {
  server = new ChatServer({
    ...options,
    store: storeFor(store),
    log,
    tls: null,
    passwordCost: TEST_PASSWORD_COST,
    presenceWindowMs: 100,
    // The racing logins that lose fail with the old password; they must not throttle the next round.
    throttle: { freeFailures: 1000 },
    limits: { registrationsPerMinute: 10_000, addressRegistrationsPerMinute: 10_000, loginsPerMinute: 10_000 },
  });
  port = (await server.listen(0, '127.0.0.1')).port;
  await server.ready;
}

async function peer(): Promise<RawPeer> {
  const opened = await RawPeer.openPlain(port);
  peers.push(opened);
  return opened;
}

async function loggedIn(name: string, password = `${name}-secret`): Promise<RawPeer> {
  const opened = await peer();
  const answer = await opened.login(name, password);
  expect(answer).toMatchObject({ ok: true });
  return opened;
}

type Pushed = Extract<ServerFrame, { type: 'message' }>;
const messagePushes = (of: RawPeer): Pushed[] => of.frames.filter((frame): frame is Pushed => frame.type === 'message');
const result = (frame: ServerFrame): Record<string, unknown> => {
  if (frame.type !== 'res' || !frame.ok) throw new Error(`refused: ${JSON.stringify(frame)}`);
  return frame.result as Record<string, unknown>;
};

describe('a server whose store answers late', () => {
  it('stores a message sent twice at once on two connections exactly once, and pushes it once', async () => {
    await start();
    const first = await loggedIn('alice');
    const second = await loggedIn('alice');
    const reader = await loggedIn('bob');
    const ids = Array.from({ length: 30 }, (_, index) => `twice-${index}`);
    const send = (on: RawPeer, clientMsgId: string): Promise<ServerFrame> =>
      on.request('send', { to: { kind: 'room' }, text: clientMsgId, clientMsgId });
    const answers = await Promise.all(ids.map((id) => Promise.all([send(first, id), send(second, id)])));
    for (const pair of answers) {
      const [a, b] = pair.map((answer) => result(answer) as { message: { id: number }; duplicate: boolean });
      expect(a!.message.id).toBe(b!.message.id);
      expect([a!.duplicate, b!.duplicate].filter((duplicate) => !duplicate)).toHaveLength(1);
    }
    await waitFor(() => messagePushes(reader).length >= ids.length, 'every message at the reader');
    const history = result(await reader.request('history', { conv: 'room', limit: 200 })) as { messages: { clientMsgId: string }[] };
    expect(history.messages.map((message) => message.clientMsgId)).toEqual(ids);
    expect(messagePushes(reader).map((push) => push.message.clientMsgId)).toEqual(ids);
  });

  it('pushes every message and membership line in id order, each once, while several senders pipeline', async () => {
    await start();
    const senders = await Promise.all(['alice', 'bob', 'carol'].map((name) => loggedIn(name)));
    const reader = await loggedIn('dave');
    const group = result(await senders[0]!.request('groupCreate', { name: 'team', members: ['bob', 'carol', 'dave'] })) as { group: { id: number } };
    const groupId = group.group.id;
    for (const invitee of [senders[1]!, senders[2]!, reader]) {
      await waitFor(() => invitee.frames.some((frame) => frame.type === 'groupInvitations'), 'the invitation');
      result(await invitee.request('groupAnswer', { groupId, accept: true }));
    }
    const before = messagePushes(reader).length;
    const perSender = 40;
    const sends = senders.flatMap((sender, s) =>
      Array.from({ length: perSender }, (_, index) =>
        sender.request('send', {
          to: index % 2 === 0 ? { kind: 'room' } : { kind: 'group', groupId },
          text: `${s}-${index}`,
          clientMsgId: `${s}-${index}`,
        }),
      ),
    );
    // Membership lines take ids from the same sequence, meanwhile.
    const renames = Array.from({ length: 10 }, (_, index) => senders[0]!.request('groupRename', { groupId, name: `team ${index}` }));
    for (const answer of await Promise.all([...sends, ...renames])) result(answer);
    const expected = before + senders.length * perSender + renames.length;
    await waitFor(() => messagePushes(reader).length >= expected, 'every message at the reader');
    const pushed = messagePushes(reader).slice(before);
    const ids = pushed.map((push) => push.message.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const eventIds = pushed.map((push) => push.eventId!);
    expect(eventIds).toEqual([...eventIds].sort((a, b) => a - b));
    expect(pushed).toHaveLength(expected - before);
  });

  it('leaves no session alive that logged in with the old password while it was changed', async () => {
    // A login's new session takes its time to store: the password change falls between its checks and it.
    await start({ createSession: 40 });
    let password = 'first password';
    const owner = await loggedIn('alice', password);
    for (let round = 0; round < 3; round += 1) {
      const next = `password ${round}`;
      const racers = await Promise.all(Array.from({ length: 16 }, () => peer()));
      await Promise.all(racers.map((racer) => racer.hello()));
      const change = new Promise<ServerFrame>((resolve) =>
        setTimeout(() => resolve(owner.request('changePassword', { current: password, password: next })), 15),
      );
      const logins = racers.map(
        (racer, index) =>
          new Promise<ServerFrame>((resolve) => setTimeout(() => resolve(racer.request('login', { name: 'alice', password })), index * 2)),
      );
      const answers = await Promise.all(logins);
      result(await change);
      password = next;
      for (const [index, answer] of answers.entries()) {
        if (answer.type !== 'res' || !answer.ok) continue;
        await racers[index]!.waitClosed();
        const again = await peer();
        await again.hello();
        const token = (answer.result as { token: string }).token;
        expect(await again.request('login', { name: 'alice', token })).toMatchObject({ ok: false, error: { code: 'BAD_TOKEN' } });
      }
    }
    // The owner's own session stays.
    expect(result(await owner.request('users'))).toBeDefined();
  });

  it('ends with the presence that is true after logins and closes whose store calls overlap', async () => {
    await start();
    const watcher = await loggedIn('carol');
    const presence = (): boolean | undefined =>
      presenceIn(watcher.frames, 'bob').at(-1)?.online;
    (await loggedIn('bob')).destroy();
    await waitFor(() => presence() === false, 'bob announced offline after registering');
    const cycles = await Promise.all(
      Array.from({ length: 6 }, async (_, index) => {
        const bob = await loggedIn('bob');
        await new Promise((resolve) => setTimeout(resolve, index * 3));
        if (index % 2 === 0) bob.destroy();
        return bob;
      }),
    );
    await waitFor(() => presence() === true, 'bob announced online');
    for (const bob of cycles) bob.destroy();
    await waitFor(() => presence() === false, 'bob announced offline');
    const { users } = result(await watcher.request('users')) as { users: { name: string; online: boolean }[] };
    expect(users.find((user) => user.name === 'bob')!.online).toBe(false);
  });

  it('opens a chat both ask for at the same moment: the second request accepts the first', async () => {
    await start();
    for (let pair = 0; pair < 4; pair += 1) {
      const [a, b] = await Promise.all([loggedIn(`ann${pair}`), loggedIn(`ben${pair}`)]);
      await Promise.all([a.request('chatRequest', { user: `ben${pair}` }), b.request('chatRequest', { user: `ann${pair}` })]);
      for (const [side, other] of [[a, `ben${pair}`], [b, `ann${pair}`]] as const) {
        const { contacts } = result(await side.request('contacts')) as { contacts: { name: string; state: string }[] };
        expect(contacts).toMatchObject([{ name: other, state: 'accepted' }]);
      }
    }
  });

  it('never counts a session online that closed while its login waited for the store', async () => {
    await start();
    const watcher = await loggedIn('carol');
    (await loggedIn('bob')).destroy();
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const quitter = await peer();
      await quitter.hello();
      quitter.send({ type: 'login', id: 99, name: 'bob', password: 'bob-secret' });
      // Gone while the login is under way.
      setTimeout(() => quitter.destroy(), attempt);
    }
    const bobOnline = async (): Promise<boolean> => {
      const { users } = result(await watcher.request('users')) as { users: { name: string; online: boolean }[] };
      return users.find((user) => user.name === 'bob')!.online;
    };
    let online = true;
    const deadline = Date.now() + 5000;
    while (online && Date.now() < deadline) online = await bobOnline();
    expect(online).toBe(false);
  });
});

describe("one connection's pipelined sends", () => {
  /** The real store, recording how many messages each commit of the group commit stored. */
  const countingCommits = (batches: number[]) => (real: AsyncStore): AsyncStore => ({
    ...real,
    insertMessages: (messages) => {
      batches.push(messages.length);
      return real.insertMessages(messages);
    },
  });
  const answersFrom = (of: RawPeer, firstId: number): ServerFrame[] =>
    of.frames.filter((frame) => frame.type === 'pong' || (frame.type === 'res' && frame.id >= firstId));

  it('stores them together, at most 64 to a commit, in the order sent, and answers them in that order', async () => {
    const batches: number[] = [];
    await start({}, countingCommits(batches));
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    batches.length = 0;
    const count = 100;
    alice.write(
      Buffer.concat(
        Array.from({ length: count }, (_, index) => encodeFrame({ type: 'send', id: 1000 + index, clientMsgId: `p${index}`, to: { kind: 'room' }, text: `p${index}` })),
      ),
    );
    await waitFor(() => answersFrom(alice, 1000).length === count, 'every answer');
    const answers = answersFrom(alice, 1000).map((frame) => ({ id: (frame as { id: number }).id, ...(result(frame) as { message: { id: number; text: string } }) }));
    expect(answers.map((answer) => answer.id)).toEqual(Array.from({ length: count }, (_, index) => 1000 + index));
    expect(answers.map((answer) => answer.message.text)).toEqual(Array.from({ length: count }, (_, index) => `p${index}`));
    const ids = answers.map((answer) => answer.message.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // One commit per send before; the frames may arrive in several reads, more on a loaded machine.
    expect(batches.length).toBeLessThanOrEqual(count / 10);
    expect(Math.max(...batches)).toBeLessThanOrEqual(64);
    await waitFor(() => messagePushes(bob).length === count, 'every push at bob');
    expect(messagePushes(bob).map((push) => push.message.id)).toEqual(ids);
  });

  it('stores them in one commit per window of 64 when each send costs the thread a millisecond, and answers and pushes them in order', async () => {
    // Each duplicate check holds the thread for 1 ms, as a cold send on a loaded machine can: the connection
    // then yields its turn every few sends (CONNECTION_TURN_MS), and the commit waits for the rest of its window.
    const batches: number[] = [];
    await start({}, (real) => ({
      ...countingCommits(batches)(real),
      messageByClientId: (...args) => {
        const until = performance.now() + 1;
        while (performance.now() < until);
        return real.messageByClientId(...args);
      },
    }));
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    batches.length = 0;
    const count = 150;
    alice.write(
      Buffer.concat(
        Array.from({ length: count }, (_, index) => encodeFrame({ type: 'send', id: 1000 + index, clientMsgId: `w${index}`, to: { kind: 'room' }, text: `w${index}` })),
      ),
    );
    await waitFor(() => answersFrom(alice, 1000).length === count, 20_000, 'every answer');
    const answers = answersFrom(alice, 1000).map((frame) => ({ id: (frame as { id: number }).id, ...(result(frame) as { message: { id: number; text: string } }) }));
    expect(answers.map((answer) => answer.id)).toEqual(Array.from({ length: count }, (_, index) => 1000 + index));
    expect(answers.map((answer) => answer.message.text)).toEqual(Array.from({ length: count }, (_, index) => `w${index}`));
    const ids = answers.map((answer) => answer.message.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // 64, 64 and 22, or one more if the frames came in two reads: a commit each few sends before.
    expect(batches.length).toBeLessThanOrEqual(4);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(count);
    await waitFor(() => messagePushes(bob).length === count, 'every push at bob');
    expect(messagePushes(bob).map((push) => push.message.id)).toEqual(ids);
  });

  it('keeps request order when their checks take different times, a refused send and other requests among them', async () => {
    // Commits slower than any check: a refusal found meanwhile must still wait for the answers before it.
    await start({ insertMessages: 30 });
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    const { group } = result(await alice.request('groupCreate', { name: 'team', members: ['bob'] })) as { group: { id: number } };
    await waitFor(() => bob.frames.some((frame) => frame.type === 'groupInvitations'), 'the invitation');
    result(await bob.request('groupAnswer', { groupId: group.id, accept: true }));
    const frames = [
      { type: 'send', id: 2001, clientMsgId: 'g1', to: { kind: 'group', groupId: group.id }, text: 'g1' },
      { type: 'send', id: 2002, clientMsgId: 'r2', to: { kind: 'room' }, text: 'r2' },
      { type: 'send', id: 2003, clientMsgId: 'x3', to: { kind: 'group', groupId: 999 }, text: 'x3' },
      { type: 'send', id: 2004, clientMsgId: 'r4', to: { kind: 'room' }, text: 'r4' },
      { type: 'send', id: 2005, clientMsgId: 'r4', to: { kind: 'room' }, text: 'r4' },
      { type: 'send', id: 2006, to: { kind: 'room' }, text: 'no client id' },
      { type: 'ping' },
      { type: 'history', id: 2008, conv: 'room' },
      { type: 'send', id: 2009, clientMsgId: 'g9', to: { kind: 'group', groupId: group.id }, text: 'g9' },
    ];
    alice.write(Buffer.concat(frames.map((frame) => encodeFrame(frame))));
    await waitFor(() => answersFrom(alice, 2000).length === frames.length, 'every answer');
    const answers = answersFrom(alice, 2000);
    expect(answers.map((frame) => (frame.type === 'res' ? frame.id : 'pong'))).toEqual([2001, 2002, 2003, 2004, 2005, 2006, 'pong', 2008, 2009]);
    const [g1, r2, x3, r4, again, invalid, , history, g9] = answers;
    expect(x3).toMatchObject({ ok: false, error: { code: 'UNKNOWN_GROUP' } });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const idOf = (frame: ServerFrame | undefined): number => (result(frame!) as { message: { id: number } }).message.id;
    expect(result(again!)).toMatchObject({ duplicate: true, message: { id: idOf(r4) } });
    const stored = [idOf(g1), idOf(r2), idOf(r4), idOf(g9)];
    expect(stored).toEqual([...stored].sort((a, b) => a - b));
    // The history asked after the sends before it were answered sees them, and not the one after it.
    const texts = (result(history!) as { messages: { text: string }[] }).messages.map((message) => message.text);
    expect(texts).toEqual(['r2', 'r4']);
  });
});

describe('who may write and read, decided when the commit stores', () => {
  /** alice's group with the named members in it (each accepted), and its id. */
  async function groupOf(owner: RawPeer, members: RawPeer[], names: string[]): Promise<number> {
    const { group } = result(await owner.request('groupCreate', { name: 'team', members: names })) as { group: { id: number } };
    for (const member of members) {
      await waitFor(() => member.frames.some((frame) => frame.type === 'groupInvitations'), 'the invitation');
      result(await member.request('groupAnswer', { groupId: group.id, accept: true }));
    }
    return group.id;
  }
  const sendFrames = (groupId: number, prefix: string, count: number, firstId: number, from = 0): Buffer =>
    Buffer.concat(
      Array.from({ length: count }, (_, index) =>
        encodeFrame({ type: 'send', id: firstId + index, clientMsgId: `${prefix}${from + index}`, to: { kind: 'group', groupId }, text: `${prefix}${from + index}` }),
      ),
    );
  const answersFrom = (of: RawPeer, firstId: number): ServerFrame[] => of.frames.filter((frame) => frame.type === 'res' && frame.id >= firstId);
  /** Writes count sends to the group a few at a time, a few ms apart, so some are checked while a change runs and stored after it. */
  async function trickle(of: RawPeer, groupId: number, prefix: string, count: number, firstId: number): Promise<void> {
    for (let sent = 0; sent < count; sent += 2) {
      of.write(sendFrames(groupId, prefix, Math.min(2, count - sent), firstId + sent, sent));
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  }

  it('stores nothing from a member after the line that removed them, acknowledges nothing of it, and pushes them nothing after it', async () => {
    // Commits slower than the removal: sends queued before it are stored after it.
    await start({ insertMessages: 30 });
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    const carol = await loggedIn('carol');
    const groupId = await groupOf(alice, [bob, carol], ['bob', 'carol']);
    const count = 40;
    const sending = Promise.all([trickle(bob, groupId, 'b', count, 3000), trickle(alice, groupId, 'a', count, 3000)]);
    await waitFor(() => answersFrom(bob, 3000).length >= 2, "bob's first answers");
    const [removeBob, removeCarol] = await Promise.all([
      alice.request('groupRemoveMember', { groupId, user: 'bob' }),
      alice.request('groupRemoveMember', { groupId, user: 'carol' }),
    ]);
    result(removeBob);
    result(removeCarol);
    await sending;
    await waitFor(() => answersFrom(bob, 3000).length === count && answersFrom(alice, 3000).length === count, 'every answer');

    const { messages } = await store.history(`group:${groupId}`, undefined, 500);
    const lineId = (user: string): number => messages.find((message) => message.groupEvent?.kind === 'removed' && message.groupEvent.user === user)!.id;
    const bobRemoved = lineId('bob');
    const carolRemoved = lineId('carol');
    // Stored: nothing of bob's after his removal.
    expect(messages.filter((message) => message.from === 'bob' && message.id > bobRemoved)).toEqual([]);
    // Acknowledged: every send of bob's answered as stored is stored, before the line; the rest refused as for a stranger.
    for (const answer of answersFrom(bob, 3000)) {
      if (answer.type === 'res' && answer.ok) {
        const { message } = answer.result as { message: { id: number } };
        expect(messages.some((stored) => stored.id === message.id)).toBe(true);
        expect(message.id).toBeLessThan(bobRemoved);
      } else expect(answer).toMatchObject({ ok: false, error: { code: 'UNKNOWN_GROUP' } });
    }
    // Pushed: nothing of the group after each one's removal.
    const groupPushes = (of: RawPeer): number[] => messagePushes(of).filter((push) => push.message.groupId === groupId).map((push) => push.message.id);
    expect(groupPushes(bob).filter((id) => id > bobRemoved)).toEqual([]);
    expect(groupPushes(carol).filter((id) => id > carolRemoved)).toEqual([]);
    // And alice's own sends all went through, each pushed to her other readers while they were in.
    expect(answersFrom(alice, 3000).every((answer) => answer.type === 'res' && answer.ok)).toBe(true);
  });

  it('answers resends checked before a mute and stored after it as the messages stored, and refuses the new sends MUTED', async () => {
    // Commits slower than the mute: resends and new sends checked before it are stored after it.
    await start({ insertMessages: 30 });
    const bob = await loggedIn('bob');
    const count = 20;
    const send = (id: number, clientMsgId: string): Buffer => encodeFrame({ type: 'send', id, clientMsgId, to: { kind: 'room' }, text: clientMsgId });
    bob.write(Buffer.concat(Array.from({ length: count }, (_, index) => send(5000 + index, `s${index}`))));
    await waitFor(() => answersFrom(bob, 5000).length === count, 'the first sends stored');
    const storedId = new Map(answersFrom(bob, 5000).map((answer) => [(result(answer).message as { text: string }).text, (result(answer).message as { id: number }).id]));
    const sending = (async () => {
      for (let index = 0; index < count; index++) {
        bob.write(Buffer.concat([send(6000 + 2 * index, `s${index}`), send(6001 + 2 * index, `n${index}`)]));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await waitFor(() => answersFrom(bob, 6000).length >= 4, 'the first resends answered');
    await server.admin.mute('bob');
    await sending;
    await waitFor(() => answersFrom(bob, 6000).length === 2 * count, 'every answer');
    const answers = answersFrom(bob, 6000);
    const refused = answers.filter((answer) => answer.type === 'res' && !answer.ok);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) expect(answer).toMatchObject({ id: expect.toSatisfy((id: number) => id % 2 === 1), error: { code: 'MUTED' } });
    for (const [index, answer] of answers.entries()) {
      if (index % 2 === 0) expect(answer).toMatchObject({ ok: true, result: { duplicate: true, message: { id: storedId.get(`s${index / 2}`) } } });
    }
  });

  it('leaves no message of a group deleted while sends to it waited for their commit', async () => {
    await start({ insertMessages: 30 });
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    const groupId = await groupOf(alice, [bob], ['bob']);
    const count = 40;
    const sending = trickle(bob, groupId, 'd', count, 4000);
    await waitFor(() => answersFrom(bob, 4000).length >= 2, "bob's first answers");
    result(await alice.request('groupDelete', { groupId }));
    await sending;
    await waitFor(() => answersFrom(bob, 4000).length === count, 'every answer');
    expect((await store.history(`group:${groupId}`, undefined, 500)).messages).toEqual([]);
    const refused = answersFrom(bob, 4000).filter((answer) => answer.type === 'res' && !answer.ok);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) expect(answer).toMatchObject({ error: { code: 'UNKNOWN_GROUP' } });
  });

  it('notes in its log, once, a request its store never answers, whose pings then wait behind it', async () => {
    const never = new Promise<never>(() => undefined);
    await start({}, (real) => new Proxy(real, { get: (target, key) => (key === 'listUsers' ? () => never : Reflect.get(target, key)) }), { heartbeatTimeoutMs: 200 });
    const alice = await loggedIn('alice');
    alice.send({ type: 'users', id: 50 });
    // Its client's pings, as the reference client sends them: they wait behind the request, and get no pong.
    const pinging = setInterval(() => alice.send({ type: 'ping' }), 50);
    onTestFinished(() => clearInterval(pinging));
    const noted = (): number => readFileSync(join(dir, 'server.log'), 'utf8').split('\n').filter((line) => line.includes('"event":"request unanswered"')).length;
    await waitFor(() => noted() === 1, 20_000, 'the stuck request in the log');
    expect(readFileSync(join(dir, 'server.log'), 'utf8')).toMatch(/"event":"request unanswered".*"type":"users".*"user":"alice"/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(alice.frames.some((frame) => frame.type === 'pong')).toBe(false);
    expect(alice.closed).toBe(false);
    expect(noted()).toBe(1);
  });
});
