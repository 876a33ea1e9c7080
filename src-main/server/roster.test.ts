/** Issue 10 item 15: presence is coalesced per user, and one account cannot cycle its logins without limit. */
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { PresenceState, ServerFrame } from '../../src-shared/protocol/pushes.js';
import { RawPeer, TEST_PRESENCE_WINDOW_MS, announces, presenceIn, waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import { PRESENCE_PROMPT_USERS, PRESENCE_WINDOW_MS } from './presence.js';

const room = useRoom();
const WINDOW_MS = TEST_PRESENCE_WINDOW_MS;

type Presence = Extract<ServerFrame, { type: 'presence' }>;
const presenceOf = (peer: RawPeer, user: string): PresenceState[] => presenceIn(peer.frames, user);
const presenceFrames = (peer: RawPeer): Presence[] => peer.frames.filter((frame): frame is Presence => frame.type === 'presence');

/** Logs in with the token on a fresh connection, then drops it; resolves with the login response. */
async function cycle(token: string, name = 'mallory'): Promise<ServerFrame> {
  const peer = await RawPeer.open(room.port);
  try {
    await peer.hello();
    return await peer.request('login', { name, token });
  } finally {
    peer.destroy();
  }
}

describe('presence', () => {
  it('costs a bystander at most one push per window while a muted user cycles token logins', async () => {
    await room.start({ limits: { loginsPerMinute: 100_000 } });
    const token = (await room.user('mallory')).sessionToken!;
    room.closeClients();
    await room.host.server.admin.mute('mallory');
    const alice = await room.raw();
    await alice.login('alice');

    const started = Date.now();
    let logins = 0;
    while (logins < 30 || Date.now() - started < 4 * WINDOW_MS) {
      expect(await cycle(token)).toMatchObject({ ok: true });
      logins += 1;
    }
    const windows = Math.ceil((Date.now() - started) / WINDOW_MS);
    // Gathered and sent lazily: wait out a window and a lazy flush for the last one.
    await new Promise((resolve) => setTimeout(resolve, 3 * WINDOW_MS));
    // Uncoalesced, the pushes (two per login) would pass the bound below.
    expect(2 * logins).toBeGreaterThan(windows + 2);
    // Whatever was heard (perhaps nothing), the last word is the truth: mallory is offline. It can take
    // four windows to arrive: the change waits for its window, again if the last announcement was
    // less than a window before, then the batch's flush and the lazy write wait a window each.
    await waitFor(() => (presenceOf(alice, 'mallory').at(-1)?.online ?? false) === false, 5 * WINDOW_MS, 'mallory heard offline');
    const heard = presenceOf(alice, 'mallory');
    // Before coalescing this was two pushes per login. One more may be left from mallory's first
    // login, whose window can close after alice is in; one for the window after the last cycle.
    expect(heard.length).toBeLessThanOrEqual(windows + 2);
  });

  it('still tells a bystander of a user who comes, goes and comes back normally', async () => {
    await room.start();
    const alice = await room.raw();
    await alice.login('alice');
    const bob = await room.raw();
    await bob.login('bob');
    await alice.waitFrame(announces('bob', true));
    bob.destroy();
    await alice.waitFrame(announces('bob', false));
    const again = await room.raw();
    await again.login('bob');
    await waitForCount(alice, 'bob', 3);
    expect(presenceOf(alice, 'bob').map((p) => p.online)).toEqual([true, false, true]);
    // A user never hears of their own presence: their login says it.
    expect(presenceOf(again, 'bob')).toEqual([]);
  });

  it('tells a bystander at once of a user who logs in, and of their leaving even within the window', async () => {
    await room.start();
    const alice = await room.raw();
    await alice.login('alice');
    const bob = await room.raw();
    await bob.login('bob');
    // The first login is announced before anything bob writes: alice never reads a message from
    // someone she was shown offline.
    expect(await bob.request('send', { to: { kind: 'room' }, text: 'hi', clientMsgId: 'c1' })).toMatchObject({ ok: true });
    await alice.waitFrame((f) => f.type === 'message');
    expect(alice.frames.filter((f) => f.type === 'presence' || f.type === 'message').map((f) => f.type)).toEqual(['presence', 'message']);
    bob.destroy();
    await waitForCount(alice, 'bob', 2);
    expect(presenceOf(alice, 'bob').map((p) => p.online)).toEqual([true, false]);
  });

  it('tells a room that heard no presence for a window of a login at once, and gathers the logins after it', async () => {
    // A window far longer than the test: only a push made at once can arrive within it.
    await room.start({ presenceWindowMs: 60_000 });
    const alice = await room.raw();
    await alice.login('alice');
    const bob = await room.raw();
    await bob.login('bob');
    await alice.waitFrame(announces('bob', true));
    for (const name of ['carol', 'dave']) await (await room.raw()).login(name);
    // Within the window after bob's: gathered, and written before bob's next message.
    expect(await bob.request('send', { to: { kind: 'room' }, text: 'hi', clientMsgId: 'c1' })).toMatchObject({ ok: true });
    await alice.waitFrame((frame) => frame.type === 'message');
    const heard = alice.frames.filter((frame) => frame.type === 'presence' || frame.type === 'message');
    expect(heard.map((frame) => (frame.type === 'presence' ? frame.users.map((state) => state.user) : frame.type))).toEqual([['bob'], ['carol', 'dave'], 'message']);
  });

  it('writes what it gathered a window after its last push, with nothing held longer', async () => {
    const windowMs = 3000;
    await room.start({ presenceWindowMs: windowMs });
    const alice = await room.raw();
    await alice.login('alice');
    const bob = await room.raw();
    await bob.login('bob');
    await alice.waitFrame(announces('bob', true));
    await (await room.raw()).login('carol');
    // dave logs in a window and a half after carol: the host's timer for what it gathered (due a window
    // after bob's push) runs before this one, both in this process's loop, whatever the machine's load.
    await new Promise((resolve) => setTimeout(resolve, 1.5 * windowMs));
    await (await room.raw()).login('dave');
    await alice.waitFrame(announces('dave', true), 2 * windowMs);
    // carol's presence went out alone, a window after bob's: held for company, it would wait a window
    // more and go out with dave's.
    expect(presenceFrames(alice).map((frame) => frame.users.map((state) => state.user))).toEqual([['bob'], ['carol'], ['dave']]);
  });

  it('in a crowd, gathers even a login after a quiet window for a window', async () => {
    // alice, a raw peer, sends no pings: on a loaded machine the crowd's hundred logins outlast the default
    // 20 s heartbeat, and the host closed her (HEARTBEAT_TIMEOUT) before zed came.
    await room.start({ presenceWindowMs: PRESENCE_WINDOW_MS, heartbeatTimeoutMs: 10 * 60_000 });
    const alice = await room.raw();
    await alice.login('alice');
    const crowd = Array.from({ length: PRESENCE_PROMPT_USERS }, (_, index) => `user${index}`);
    for (const name of crowd) await (await room.raw()).login(name);
    await waitFor(() => presenceIn(alice.frames).length === crowd.length, 'alice to hear of the crowd');
    // A window and more without presence, then one more login.
    await new Promise((resolve) => setTimeout(resolve, 1.5 * PRESENCE_WINDOW_MS));
    const loggedIn = Date.now();
    await (await room.raw()).login('zed');
    await alice.waitFrame(announces('zed', true));
    // A small room hears of it at once (above); a crowd a window after it, with whatever came meanwhile.
    expect(Date.now() - loggedIn).toBeGreaterThanOrEqual(0.9 * PRESENCE_WINDOW_MS);
  });

  it('says nothing of a user who drops and is back within the window', async () => {
    // The product's window, which a reconnect fits in on a loaded machine.
    await room.start({ presenceWindowMs: PRESENCE_WINDOW_MS });
    const alice = await room.raw();
    await alice.login('alice');
    const bob = await room.user('bob');
    await alice.waitFrame(announces('bob', true));
    // Announced after bob: her leaving, like bob's return, waits for the end of a window since then,
    // and the server goes through the users it holds back in the order they changed.
    const dave = await room.raw();
    await dave.login('dave');
    await alice.waitFrame(announces('dave', true));
    const token = bob.sessionToken!;
    room.closeClients();
    await waitFor(() => !room.host.server.admin.connections().some((c) => c.name === 'bob'), 'the server to see bob gone');
    const back = await room.raw();
    await back.hello();
    expect(await back.request('login', { name: 'bob', token })).toMatchObject({ ok: true });
    dave.destroy();
    // So once alice hears that dave left, bob's window has ended too: anything about him would have come first.
    await alice.waitFrame(announces('dave', false), 3 * PRESENCE_WINDOW_MS + 5000);
    expect(presenceOf(alice, 'bob').map((p) => p.online)).toEqual([true]);
  });
});

describe('login rate per account', () => {
  it('refuses an account cycling its logins with RATE_LIMITED and retryAfterMs, token or password', async () => {
    await room.start({ limits: { loginsPerMinute: 5 } });
    const token = (await room.user('mallory')).sessionToken!;
    room.closeClients();
    for (let i = 0; i < 4; i++) expect(await cycle(token)).toMatchObject({ ok: true });
    const refused = await cycle(token);
    expect(refused).toMatchObject({ ok: false, error: { code: ErrorCode.RATE_LIMITED, retryAfterMs: expect.any(Number) } });
    const wait = (refused as { error: { retryAfterMs: number } }).error.retryAfterMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60_000 / 5);
    expect(await room.loginError('mallory')).toBe(ErrorCode.RATE_LIMITED);
    // Another account is not affected.
    expect(await room.loginError('alice')).toBe('no error');
  });

  it('does not count failed attempts: others guessing cannot lock the owner out', async () => {
    await room.start({ limits: { loginsPerMinute: 2 }, throttle: { freeFailures: 1000 } });
    const token = (await room.user('bob')).sessionToken!;
    room.closeClients();
    const guesser = await room.raw();
    await guesser.hello();
    for (let i = 0; i < 5; i++) {
      expect(await guesser.request('login', { name: 'bob', password: `guess-${i}` })).toMatchObject({ error: { code: ErrorCode.WRONG_PASSWORD } });
    }
    const wrongToken = token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    for (let i = 0; i < 3; i++) expect(await cycle(wrongToken, 'bob')).toMatchObject({ error: { code: ErrorCode.BAD_TOKEN } });
    const peer = await room.raw();
    await peer.hello();
    expect(await peer.request('login', { name: 'bob', token })).toMatchObject({ ok: true });
  });
});

async function waitForCount(peer: RawPeer, user: string, count: number): Promise<void> {
  await peer.waitFrame(() => presenceOf(peer, user).length >= count);
}

describe('presence after a restart', () => {
  it('tells everyone of each user who comes back at once, exactly once, and nobody of themselves', async () => {
    await room.start();
    const names = Array.from({ length: 12 }, (_, index) => `user${index}`);
    const tokens: string[] = [];
    for (const name of names) {
      const peer = await room.raw();
      const login = await peer.login(name);
      tokens.push((login as { result: { token: string } }).result.token);
    }
    await room.restart();
    const alice = await room.raw();
    await alice.login('alice');
    const peers = await Promise.all(names.map(() => room.raw()));
    await Promise.all(peers.map((peer) => peer.hello()));
    // Sent together, the logins end in the same turn: their presence leaves as one shared batch.
    const logins = await Promise.all(peers.map((peer, index) => peer.request('login', { name: names[index], token: tokens[index] })));
    for (const login of logins) expect(login).toMatchObject({ ok: true });
    for (const name of names) await alice.waitFrame(announces(name));
    // The last of them writes to the room: every presence announced before reaches each peer ahead of it.
    expect(await peers.at(-1)!.request('send', { to: { kind: 'room' }, text: 'back', clientMsgId: 'c1' })).toMatchObject({ ok: true });
    for (const peer of [alice, ...peers.slice(0, -1)]) await peer.waitFrame((frame) => frame.type === 'message');

    for (const name of names) expect(presenceOf(alice, name).map((p) => p.online)).toEqual([true]);
    peers.forEach((peer, index) => {
      const heard = presenceIn(peer.frames).map((p) => p.user);
      expect(heard).not.toContain(names[index]);
      expect(new Set(heard).size).toBe(heard.length);
    });
  });
});

describe('presence as one frame (protocol 1.2)', () => {
  /** Registers the users, then restarts the host so that none of them is online or pending; returns their tokens. */
  async function registered(names: string[]): Promise<string[]> {
    const tokens: string[] = [];
    for (const name of names) {
      const peer = await room.raw();
      const login = await peer.login(name);
      tokens.push((login as { result: { token: string } }).result.token);
    }
    await room.restart({ presenceWindowMs: PRESENCE_WINDOW_MS });
    return tokens;
  }

  /**
   * Logs alice in, then the users on connections opened before, all their logins written at once. A watcher
   * online before alice hears of her login: that write opens the window the users' logins fall in, however
   * long their connections took to open (on a loaded machine, longer than a window).
   */
  async function aliceThenTogether(
    names: string[],
    tokens: string[],
    logInAlice = async (alice: RawPeer) => void (await alice.login('alice')),
  ): Promise<{ alice: RawPeer; peers: RawPeer[] }> {
    await (await room.raw()).login('watcher');
    const peers = await Promise.all(names.map(() => room.raw()));
    await Promise.all(peers.map((peer) => peer.hello()));
    const alice = await room.raw();
    await logInAlice(alice);
    const logins = await Promise.all(peers.map((peer, index) => peer.request('login', { name: names[index], token: tokens[index] })));
    for (const login of logins) expect(login).toMatchObject({ ok: true });
    return { alice, peers };
  }

  it('tells a peer of many logins within the window in one frame listing them all, and each of them of those after it', async () => {
    await room.start({ presenceWindowMs: PRESENCE_WINDOW_MS });
    const names = Array.from({ length: 8 }, (_, index) => `user${index}`);
    const tokens = await registered(names);
    const { alice, peers } = await aliceThenTogether(names, tokens);
    for (const name of names) await alice.waitFrame(announces(name, true));
    expect(presenceFrames(alice)).toHaveLength(1);
    const order = presenceIn(alice.frames).map((state) => state.user);
    expect([...order].sort()).toEqual(names);
    // The others are in the same frame, without the peer itself and those announced before its login (its login tells it).
    for (const [index, peer] of peers.entries()) {
      const after = order.slice(order.indexOf(names[index]!) + 1);
      // A reply goes out after what was handed to the connection before it: the presence, if any.
      await peer.request('users');
      expect(presenceFrames(peer)).toHaveLength(after.length > 0 ? 1 : 0);
      expect(presenceIn(peer.frames).map((state) => state.user)).toEqual(after);
    }
  });

  const GATHERED = ['bob', 'carol', 'dave'];

  /**
   * alice online, then bob, carol and dave logging in within one window; bob sends `to` at once. Returns
   * the kinds of alice's frames among `kinds`, in order, once the message came, after checking that the
   * presence she heard lists all three.
   */
  async function heardAroundMessage(to: Record<string, unknown>, kinds: string[]): Promise<string[]> {
    await room.start({ presenceWindowMs: PRESENCE_WINDOW_MS });
    const tokens = await registered(GATHERED);
    const {
      alice,
      peers: [bob],
    } = await aliceThenTogether(GATHERED, tokens);
    // Well within the window: what was gathered goes out now, ahead of the message.
    expect(await bob!.request('send', { to, text: 'back', clientMsgId: 'c1' })).toMatchObject({ ok: true });
    await alice.waitFrame((frame) => frame.type === 'message');
    expect(presenceIn(alice.frames).map((state) => state.user).sort()).toEqual(GATHERED);
    return alice.frames.filter((frame) => kinds.includes(frame.type)).map((frame) => frame.type);
  }

  it('writes what it gathered before a message of someone it lists, in the same order for everyone', async () => {
    expect(await heardAroundMessage({ kind: 'room' }, ['presence', 'message'])).toEqual(['presence', 'message']);
  });

  it('writes what it gathered before a direct message and its chat request too', async () => {
    // Delivered to two users (FanOut.push to given users), not broadcast: the gathered presence still goes first.
    const kinds = ['presence', 'chatRequest', 'message'];
    expect(await heardAroundMessage({ kind: 'dm', user: 'alice' }, kinds)).toEqual(kinds);
  });

  it('gives a client that said 1.1 in hello one frame per user, as 1.1 does', async () => {
    await room.start({ presenceWindowMs: PRESENCE_WINDOW_MS });
    const names = ['bob', 'carol'];
    const tokens = await registered(names);
    const { alice: old } = await aliceThenTogether(names, tokens, async (old) => {
      expect(await old.request('hello', { protocol: '1.1' })).toMatchObject({ ok: true, result: { protocol: '1.2' } });
      expect(await old.request('login', { name: 'alice', password: 'alice-secret' })).toMatchObject({ ok: true });
    });
    await waitFor(() => old.frames.filter((frame) => frame.type === 'presence').length === 2, 'two presence frames');
    const heard = old.frames.filter((frame) => frame.type === 'presence') as unknown as Record<string, unknown>[];
    for (const frame of heard) expect(Object.keys(frame)).toEqual(['type', 'user', 'online', 'ts']);
    expect(heard.map((frame) => frame['user']).sort()).toEqual(names);
  });
});

describe('the host stopping', () => {
  it('stores every user’s last-seen time and how far they were delivered, all sessions closing at once', async () => {
    await room.start();
    const names = Array.from({ length: 30 }, (_, index) => `user${index}`);
    const peers = await Promise.all(names.map(() => room.raw()));
    for (const [index, peer] of peers.entries()) expect(await peer.login(names[index]!)).toMatchObject({ ok: true });
    let last = 0;
    for (let n = 0; n < 3; n++) {
      const sent = await peers[0]!.request('send', { to: { kind: 'room' }, text: `m${n}`, clientMsgId: `c${n}` });
      last = (sent as { result: { message: { id: number } } }).result.message.id;
    }
    // Each peer has every message pushed to it (the sender its answers): that is how far the host delivered.
    for (const peer of peers.slice(1)) await peer.waitFrame((frame) => frame.type === 'message' && frame.message.id === last);
    const stoppedAt = Date.now();
    await room.stop();
    const db = new Database(join(room.dir, 'chat.sqlite'), { readonly: true });
    try {
      const rows = db
        .prepare<[], { name: string; lastSeen: number; deliveredUpTo: number }>('SELECT name, last_seen AS lastSeen, delivered_up_to AS deliveredUpTo FROM users ORDER BY id')
        .all();
      expect(rows.map((row) => row.name)).toEqual(names);
      for (const row of rows) {
        expect(row.lastSeen).toBeGreaterThanOrEqual(stoppedAt);
        expect(row.deliveredUpTo).toBe(last);
      }
    } finally {
      db.close();
    }
  });
});
