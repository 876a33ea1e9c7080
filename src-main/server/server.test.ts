import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorCode, PROTOCOL_VERSION } from '../../src-shared/protocol.js';
import { ChatClient } from '../client/client.js';
import { encodeFrame } from '../net/frame.js';
import { type RawPeer, collectMessages, login, nextEvent, waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';

const room = useRoom({ start: {} });

describe('handshake', () => {
  it('refuses another major protocol version with a clear error and closes', async () => {
    const peer = await room.raw();
    const response = await peer.request('hello', { protocol: '2.0' });
    expect(response).toMatchObject({ ok: false, error: { code: ErrorCode.PROTOCOL_VERSION } });
    const bye = await peer.waitFrame((f) => f.type === 'bye');
    expect(bye).toMatchObject({ error: { code: ErrorCode.PROTOCOL_VERSION } });
    await peer.waitClosed();
  });

  it('answers hello with the server limits', async () => {
    const peer = await room.raw();
    const response = await peer.request('hello', { protocol: PROTOCOL_VERSION });
    expect(response).toMatchObject({ ok: true, result: { protocol: PROTOCOL_VERSION, heartbeatMs: 20_000 } });
  });

  it('requires hello before anything and login before chat', async () => {
    const peer = await room.raw();
    expect(await peer.request('users')).toMatchObject({ ok: false, error: { code: ErrorCode.HELLO_REQUIRED } });
    await peer.hello();
    expect(await peer.request('users')).toMatchObject({ ok: false, error: { code: ErrorCode.NOT_LOGGED_IN } });
  });
});

describe('accounts', () => {
  it('registers on first login, then needs the same password; a wrong one can be retried', async () => {
    const alice = await room.user('alice', 'correct horse');
    expect(alice.session?.login.registered).toBe(true);
    alice.close();

    const peer = await room.raw();
    await peer.hello();
    const wrong = await peer.request('login', { name: 'ALICE', password: 'nope' });
    expect(wrong).toMatchObject({ ok: false, error: { code: ErrorCode.WRONG_PASSWORD } });
    const right = await peer.request('login', { name: 'ALICE', password: 'correct horse' });
    expect(right).toMatchObject({ ok: true, result: { name: 'alice', registered: false } });
  });

  it('refuses look-alike and invalid names', async () => {
    await room.user('alice');
    await expect(login(room.host, 'аlice')).rejects.toMatchObject({ code: ErrorCode.NAME_TAKEN });
    await expect(login(room.host, 'a1ice')).rejects.toMatchObject({ code: ErrorCode.NAME_TAKEN });
    await expect(login(room.host, 'bad\u202ename')).rejects.toMatchObject({ code: ErrorCode.NAME_INVALID });
    await expect(login(room.host, 'two words')).rejects.toMatchObject({ code: ErrorCode.NAME_INVALID });
  });

  it('stores passwords only as salted scrypt hashes: never in the database or the log', async () => {
    const password = 'PlainTextNeverStored-42';
    const alice = await room.user('alice', password);
    await alice.send({ kind: 'room' }, 'hello');
    alice.close();
    await room.stop();
    for (const file of readdirSync(room.dir)) {
      expect(readFileSync(join(room.dir, file)).includes(password), file).toBe(false);
    }
    await room.start();
    await expect(login(room.host, 'alice', password)).resolves.toBeTruthy();
  });

  it('resumes with the session token and refuses it after logout', async () => {
    const alice = await room.user('alice');
    const token = alice.sessionToken!;
    const again = await login(room.host, 'alice', undefined, { password: undefined, token });
    room.track(again);
    await again.logout();
    await expect(login(room.host, 'alice', undefined, { password: undefined, token })).rejects.toMatchObject({
      code: ErrorCode.BAD_TOKEN,
    });
  });
});

describe('room', () => {
  it('delivers every room message to everyone else with server id and time', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    const bobGot = nextEvent(bob, 'message');
    const carolGot = nextEvent(carol, 'message');
    const before = Date.now();
    const sent = await alice.send({ kind: 'room' }, 'merhaba arkadaşlar');
    const [[atBob], [atCarol]] = await Promise.all([bobGot, carolGot]);
    expect(atBob).toEqual(sent);
    expect(atCarol).toEqual(sent);
    expect(sent).toMatchObject({ conv: 'room', from: 'alice', text: 'merhaba arkadaşlar' });
    expect(sent.ts).toBeGreaterThanOrEqual(before);
    expect(sent.id).toBeGreaterThan(0);
  });

  it('announces joins and leaves with time', async () => {
    const alice = await room.user('alice');
    const joined = nextEvent(alice, 'presence', (p) => p.user === 'bob' && p.online);
    const bob = await room.user('bob');
    expect((await joined)[0].ts).toBeGreaterThan(0);
    const left = nextEvent(alice, 'presence', (p) => p.user === 'bob' && !p.online);
    bob.close();
    await left;
    const { users } = await alice.users();
    expect(users.find((u) => u.name === 'bob')).toMatchObject({ online: false });
    expect(users.find((u) => u.name === 'alice')).toMatchObject({ online: true });
  });

  it('stores a resent message once', async () => {
    const alice = await room.user('alice');
    const first = await alice.request('send', { clientMsgId: 'same', to: { kind: 'room' }, text: 'once' });
    const second = await alice.request('send', { clientMsgId: 'same', to: { kind: 'room' }, text: 'once' });
    expect(second).toMatchObject({ duplicate: true, message: { id: first.message.id } });
    const page = await alice.history('room');
    expect(page.messages.filter((m) => m.text === 'once')).toHaveLength(1);
  });
});

describe('group commit', () => {
  it('stores the sends of many pipelining clients together, acknowledges each once stored, all in id order', async () => {
    const senders = [await room.raw(), await room.raw(), await room.raw(), await room.raw()];
    for (const [index, peer] of senders.entries()) await peer.login(`sender${index}`);
    const reader = await room.user('reader');
    const received = collectMessages(reader);
    const db = new Database(join(room.dir, 'chat.sqlite'), { readonly: true });
    const textOf = db.prepare<[number], string>('SELECT text FROM messages WHERE id = ?').pluck();
    const ackedBeforeStored: number[] = [];
    const acked: { id: number; text: string }[] = [];
    for (const peer of senders) {
      let checked = 0;
      // Runs as each chunk arrives, before anything else: the row must be in the file by then.
      peer.socket.on('data', () => {
        for (const frame of peer.frames.slice(checked)) {
          if (frame.type !== 'res' || !frame.ok) continue;
          const message = (frame.result as { message?: { id: number; text: string } }).message;
          if (!message) continue;
          acked.push(message);
          if (textOf.get(message.id) !== message.text) ackedBeforeStored.push(message.id);
        }
        checked = peer.frames.length;
      });
    }
    const perSender = 25;
    senders.forEach((peer, index) => {
      const frames = Array.from({ length: perSender }, (_, i) =>
        encodeFrame({ type: 'send', id: 100 + i, clientMsgId: `s${index}-${i}`, to: { kind: 'room' }, text: `sender${index} #${i}` }),
      );
      peer.write(Buffer.concat(frames));
    });
    await waitFor(() => acked.length === senders.length * perSender && received.ids().length === acked.length, 10_000, 'every ack and push');
    db.close();
    expect(ackedBeforeStored).toEqual([]);
    expect(new Set(acked.map((m) => m.id)).size).toBe(acked.length);
    expect(received.ids()).toEqual([...received.ids()].sort((a, b) => a - b));
    for (const peer of senders) {
      // Pushes of others' messages and the answers to its own interleave in id order.
      const seenIds = peer.frames.flatMap((frame) =>
        frame.type === 'message' ? [frame.message.id] : frame.type === 'res' && frame.ok && 'message' in (frame.result as object) ? [(frame.result as { message: { id: number } }).message.id] : [],
      );
      expect(seenIds).toHaveLength(senders.length * perSender);
      expect(seenIds).toEqual([...seenIds].sort((a, b) => a - b));
    }
    for (const index of senders.keys()) {
      const own = acked.filter((m) => m.text.startsWith(`sender${index} `));
      expect(own.map((m) => m.text)).toEqual(Array.from({ length: perSender }, (_, i) => `sender${index} #${i}`));
      expect(own.map((m) => m.id)).toEqual([...own.map((m) => m.id)].sort((a, b) => a - b));
    }
  });
});

describe('client message order', () => {
  it("emits a sender's own messages among the others' pushes, each once and in id order", async () => {
    const senders = [await room.user('ann'), await room.user('ben'), await room.user('cem')];
    const seen = senders.map((client) => collectMessages(client));
    const sends = [];
    for (let round = 0; round < 10; round++) {
      for (const [index, client] of senders.entries()) sends.push(client.send({ kind: 'room' }, `${index}:${round}`));
    }
    await Promise.all(sends);
    await waitFor(() => seen.every((s) => s.ids().length === 30), 5000, 'every message at every sender');
    for (const s of seen) expect(s.ids()).toEqual([...s.ids()].sort((a, b) => a - b));
  });
});

describe('direct messages and chat requests', () => {
  it('turns a first message into a chat request the recipient accepts', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const request = nextEvent(bob, 'chatRequest');
    const message = nextEvent(bob, 'message');
    await alice.send({ kind: 'dm', user: 'bob' }, 'can we talk?');
    expect((await request)[0].from).toBe('alice');
    expect((await message)[0]).toMatchObject({ from: 'alice', to: 'bob', text: 'can we talk?' });
    expect((await bob.contacts()).contacts).toEqual([expect.objectContaining({ name: 'alice', state: 'incoming' })]);

    const answer = nextEvent(alice, 'chatAnswer');
    await bob.chatAnswer('alice', true);
    expect((await answer)[0]).toMatchObject({ from: 'bob', accepted: true });
    const reply = nextEvent(alice, 'message');
    await bob.send({ kind: 'dm', user: 'alice' }, 'sure');
    expect((await reply)[0]).toMatchObject({ from: 'bob', to: 'alice' });
    expect((await alice.contacts()).contacts[0]).toMatchObject({ name: 'bob', state: 'accepted' });
  });

  it('tells a declined sender and refuses further messages to that person', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await alice.chatRequest('bob');
    const answer = nextEvent(alice, 'chatAnswer');
    await bob.chatAnswer('alice', false);
    expect((await answer)[0]).toMatchObject({ from: 'bob', accepted: false });
    await expect(alice.send({ kind: 'dm', user: 'bob' }, 'please?')).rejects.toMatchObject({
      code: ErrorCode.CHAT_DECLINED,
    });
    await expect(alice.chatRequest('bob')).rejects.toMatchObject({ code: ErrorCode.CHAT_DECLINED });
    // Only bob can reopen it.
    const reopened = await bob.chatRequest('alice');
    expect(reopened.contact.state).toBe('outgoing');
  });

  it('lets either side leave a private chat and tells the partner', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await alice.chatRequest('bob');
    await bob.chatAnswer('alice', true);
    const left = nextEvent(bob, 'chatLeft');
    await alice.chatLeave('bob');
    expect((await left)[0].user).toBe('alice');
    expect((await bob.contacts()).contacts).toEqual([]);
  });

  it('refuses unknown users and messages to yourself', async () => {
    const alice = await room.user('alice');
    await expect(alice.send({ kind: 'dm', user: 'ghost' }, 'hi')).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_USER });
    await expect(alice.send({ kind: 'dm', user: 'ALICE' }, 'hi')).rejects.toMatchObject({
      code: ErrorCode.INVALID_TARGET,
    });
  });

  it('never shows a direct conversation to a third user', async () => {
    const [alice, bob, eve] = [await room.user('alice'), await room.user('bob'), await room.user('eve')];
    const sent = await alice.send({ kind: 'dm', user: 'bob' }, 'secret plan');
    await bob.chatAnswer('alice', true);
    await expect(eve.history(sent.conv)).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });
    expect((await eve.search('secret')).hits).toEqual([]);
    const sync = await eve.request('sync', { after: 0 });
    expect(sync.messages.map((m) => m.text)).not.toContain('secret plan');
  });
});

describe('groups', () => {
  it('lets the owner manage a group whose messages reach members only', async () => {
    const [alice, bob, carol] = [await room.user('alice'), await room.user('bob'), await room.user('carol')];
    const { group } = await alice.groupCreate('Project Team');
    const bobAdded = nextEvent(bob, 'group');
    await alice.groupAddMember(group.id, 'bob');
    expect((await bobAdded)[0].group.members).toEqual(['alice', 'bob']);

    const carolMessages = collectMessages(carol);
    const atBob = nextEvent(bob, 'message');
    await alice.send({ kind: 'group', groupId: group.id }, 'team meeting at 3');
    expect((await atBob)[0]).toMatchObject({ groupId: group.id, text: 'team meeting at 3' });
    const atAlice = nextEvent(alice, 'message');
    await bob.send({ kind: 'group', groupId: group.id }, 'ok');
    expect((await atAlice)[0]).toMatchObject({ from: 'bob', text: 'ok' });

    await expect(carol.groupInfo(group.id)).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_GROUP });
    await expect(carol.history(group.conv)).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });
    await expect(carol.send({ kind: 'group', groupId: group.id }, 'let me in')).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_GROUP,
    });
    await expect(bob.groupRename(group.id, 'Mine')).rejects.toMatchObject({ code: ErrorCode.NOT_GROUP_OWNER });
    await expect(bob.groupAddMember(group.id, 'carol')).rejects.toMatchObject({ code: ErrorCode.NOT_GROUP_OWNER });
    await expect(bob.groupDelete(group.id)).rejects.toMatchObject({ code: ErrorCode.NOT_GROUP_OWNER });
    expect(carolMessages.texts()).toEqual([]);

    expect((await alice.groupRename(group.id, 'Core Team')).group.name).toBe('Core Team');
    expect((await bob.groups()).groups.map((g) => g.name)).toEqual(['Core Team']);

    const removed = nextEvent(bob, 'groupRemoved');
    await alice.groupRemoveMember(group.id, 'bob');
    expect((await removed)[0]).toMatchObject({ groupId: group.id, reason: 'removed' });
    await expect(bob.history(group.conv)).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CONVERSATION });

    await alice.groupDelete(group.id);
    expect((await alice.groups()).groups).toEqual([]);
  });

  it('refuses duplicate group names and lets a member leave but not the owner', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const { group } = await alice.groupCreate('Friends');
    await expect(bob.groupCreate('friends')).rejects.toMatchObject({ code: ErrorCode.GROUP_EXISTS });
    await alice.groupAddMember(group.id, 'bob');
    await bob.groupRemoveMember(group.id, 'bob');
    await expect(alice.groupRemoveMember(group.id, 'alice')).rejects.toMatchObject({ code: ErrorCode.INVALID_TARGET });
  });
});

describe('history, offline delivery and search', () => {
  it('pages history backwards, oldest first within a page', async () => {
    const alice = await room.user('alice');
    for (let i = 1; i <= 7; i++) await alice.send({ kind: 'room' }, `m${i}`);
    const latest = await alice.history('room', undefined, 3);
    expect(latest.messages.map((m) => m.text)).toEqual(['m5', 'm6', 'm7']);
    expect(latest.hasMore).toBe(true);
    const older = await alice.history('room', latest.messages[0]!.id, 10);
    expect(older.messages.map((m) => m.text)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(older.hasMore).toBe(false);
  });

  it('searches by word, part of a word, one letter, Turkish case and person', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await alice.send({ kind: 'room' }, 'selam herkese');
    await bob.send({ kind: 'room' }, 'İSTANBUL çok güzel');
    await bob.send({ kind: 'room' }, 'xyz');
    const texts = async (query: string, person?: string) =>
      (await alice.search(query, person ? { person } : {})).hits.map((h) => h.message.text);
    expect(await texts('sel')).toEqual(['selam herkese']);
    expect(await texts('istanbul')).toEqual(['İSTANBUL çok güzel']);
    expect(await texts('ıstanbul')).toEqual(['İSTANBUL çok güzel']);
    expect(await texts('GUZEL')).toEqual(['İSTANBUL çok güzel']);
    expect(await texts('o')).toEqual(['İSTANBUL çok güzel']);
    expect(await texts('', 'bob')).toEqual(['xyz', 'İSTANBUL çok güzel']);
    await expect(alice.search('', { person: 'nobody' })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_USER });
  });
});

describe('offline delivery', () => {
  it('delivers what arrived while a user was away exactly once, from where the account left off', async () => {
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const seen = nextEvent(bob, 'message', (m) => m.text === 'seen live');
    await alice.send({ kind: 'room' }, 'seen live');
    await seen;
    bob.close();
    await nextEvent(alice, 'presence', (p) => p.user === 'bob' && !p.online);
    await alice.send({ kind: 'room' }, 'missed 1');
    await alice.send({ kind: 'dm', user: 'bob' }, 'missed 2');

    const back = new ChatClient({ host: '127.0.0.1', port: room.host.address.port, name: 'bob', password: 'bob-secret' });
    room.track(back);
    const texts: string[] = [];
    back.on('message', (m) => texts.push(m.text));
    const deliveredRoom = nextEvent(alice, 'delivered', (d) => d.conv === 'room');
    const deliveredDm = nextEvent(alice, 'delivered', (d) => d.conv.startsWith('dm:'));
    await back.connect();
    expect(texts).toEqual(['missed 1', 'missed 2']);
    // The sender learns that both messages reached somebody: nobody else was online when they were sent.
    const [toRoom, dm] = await Promise.all([deliveredRoom, deliveredDm]);
    expect(toRoom[0].upTo).toBeGreaterThan(0);
    expect(dm[0].upTo).toBeGreaterThan(toRoom[0].upTo);
  });
});

describe('edge cases', () => {
  it('recognises a resend by client id before looking at its target', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const bobRequests: string[] = [];
    bob.on('chatRequest', (r) => bobRequests.push(r.from));
    const first = await alice.request('send', { clientMsgId: 'c1', to: { kind: 'room' }, text: 'hi all' });
    const again = await alice.request('send', { clientMsgId: 'c1', to: { kind: 'dm', user: 'bob' }, text: 'hi all' });
    expect(again).toMatchObject({ duplicate: true, message: { id: first.message.id, conv: 'room' } });
    await alice.users();
    expect(bobRequests).toEqual([]);
    expect((await bob.contacts()).contacts).toEqual([]);
  });

  it('carries out nothing sent after logout', async () => {
    await room.user('watcher');
    const peer = await room.raw();
    await peer.login('leaver');
    peer.send({ type: 'logout', id: 100 });
    peer.send({ type: 'send', id: 101, clientMsgId: 'late', to: { kind: 'room' }, text: 'after logout' });
    await peer.waitFrame((f) => f.type === 'bye' && f.error.code === ErrorCode.LOGGED_OUT);
    await peer.waitClosed();
    expect(peer.frames.some((f) => f.type === 'res' && f.id === 101)).toBe(false);
    const reader = await room.user('reader');
    expect((await reader.history('room')).messages).toEqual([]);
  });

  it('serves a page of the largest messages in one frame without dropping the reader', async () => {
    const alice = await room.user('alice');
    const heavy = '\u0001'.repeat(8000);
    for (let i = 0; i < 200; i++) await alice.send({ kind: 'room' }, heavy);
    const bob = await room.user('bob');
    const page = await bob.history('room', undefined, 200);
    expect(page.messages).toHaveLength(200);
    expect(bob.state).toBe('online');
  });

  it('starts a new account caught up: no replay of old room history as missed messages', async () => {
    const alice = await room.user('alice');
    await alice.send({ kind: 'room' }, 'old news');
    const newcomer = new ChatClient({ host: '127.0.0.1', port: room.host.address.port, name: 'newcomer', password: 'pw' });
    room.track(newcomer);
    const texts: string[] = [];
    newcomer.on('message', (m) => texts.push(m.text));
    await newcomer.connect();
    expect(texts).toEqual([]);
    expect((await newcomer.history('room')).messages.map((m) => m.text)).toEqual(['old news']);
  });
});

describe('heartbeat', () => {
  it('drops a silent client and announces it offline', async () => {
    await room.stop();
    await room.start({ heartbeatTimeoutMs: 300 });
    const alice = await room.user('alice');
    const peer = await room.raw();
    await peer.login('mallory');
    const offline = nextEvent(alice, 'presence', (p) => p.user === 'mallory' && !p.online);
    await peer.waitFrame((f) => f.type === 'bye' && f.error.code === ErrorCode.HEARTBEAT_TIMEOUT);
    await offline;
    expect(alice.state).toBe('online');
    expect(room.logText()).toContain('"event":"heartbeat timeout"');
  });
});

describe('bad input', () => {
  it('answers every kind of bad frame and keeps serving others', async () => {
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const bobMessages = collectMessages(bob);

    const cases: [string, (peer: RawPeer) => void, string][] = [
      ['invalid UTF-8', (p) => p.write(Buffer.from([0, 0, 0, 2, 0xc3, 0x28])), ErrorCode.BAD_FRAME],
      ['invalid JSON', (p) => p.write(Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x:')])), ErrorCode.BAD_FRAME],
      ['a JSON array', (p) => p.send([1, 2] as unknown as Record<string, unknown>), ErrorCode.BAD_FRAME],
      ['unknown type', (p) => p.send({ type: 'teleport', id: 1 }), ErrorCode.UNKNOWN_TYPE],
      ['wrong field type', (p) => p.send({ type: 'hello', id: 1, protocol: 7 }), ErrorCode.BAD_REQUEST],
      ['missing id', (p) => p.send({ type: 'hello', protocol: '1.0' }), ErrorCode.BAD_REQUEST],
      ['extra field', (p) => p.send({ type: 'hello', id: 1, protocol: '1.0', admin: true }), ErrorCode.BAD_REQUEST],
    ];
    for (const [what, act, code] of cases) {
      const peer = await room.raw();
      act(peer);
      const answer = await peer.waitFrame((f) => f.type === 'error' || f.type === 'res');
      const error = 'error' in answer ? answer.error : undefined;
      expect(error?.code, what).toBe(code);
      await alice.send({ kind: 'room' }, `still here after ${what}`);
    }

    for (const garbage of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2])]) {
      const peer = await room.raw();
      peer.write(garbage);
      const bye = await peer.waitFrame((f) => f.type === 'bye');
      expect(bye).toMatchObject({ error: { code: ErrorCode.FRAME_TOO_LARGE } });
      await peer.waitClosed();
    }

    const repeat = await room.raw();
    for (let i = 0; i < 12; i++) repeat.send({ type: 'nope', id: i });
    await repeat.waitFrame((f) => f.type === 'bye' && f.error.code === ErrorCode.TOO_MANY_ERRORS);

    await alice.send({ kind: 'room' }, 'final');
    await waitFor(() => bobMessages.texts().includes('final'));
    expect(bobMessages.texts()).toHaveLength(cases.length + 1);
  });

  it('drops a client that stops reading once its queue passes the cap', async () => {
    await room.stop();
    // Rate limits off: this test needs alice to outpace the sleeper's socket buffers quickly.
    await room.start({ maxQueuedBytes: 256 * 1024, rateLimits: { framesPerSecond: Infinity } });
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const sleeper = await room.raw();
    await sleeper.login('sleeper');
    sleeper.socket.pause();
    const gone = nextEvent(alice, 'presence', (p) => p.user === 'sleeper' && !p.online, 20_000);
    const text = 'x'.repeat(4000);
    const bobMessages = collectMessages(bob);
    let sent = 0;
    let dropped = false;
    void gone.then(() => (dropped = true));
    while (!dropped && sent < 10_000) {
      await alice.send({ kind: 'room' }, text);
      sent += 1;
    }
    expect(dropped).toBe(true);
    await waitFor(() => bobMessages.texts().length === sent);
    expect(room.logText()).toContain(ErrorCode.SLOW_CONSUMER);
  });
});

describe('restart', () => {
  it('keeps accounts, groups and history, and clients reconnect without loss or duplicates', async () => {
    const alice = await room.user('alice');
    const bob = await room.user('bob');
    const { group } = await alice.groupCreate('Keepers');
    await alice.groupAddMember(group.id, 'bob');
    await alice.send({ kind: 'group', groupId: group.id }, 'before restart');
    const bobTexts = collectMessages(bob);
    const port = room.host.address.port;

    const offline = nextEvent(alice, 'offline');
    await room.stop();
    await offline;
    const queued = alice.send({ kind: 'room' }, 'sent while the host was down');
    await room.start({ port });
    await nextEvent(alice, 'online', () => true, 10_000);
    await queued;
    await waitFor(() => bobTexts.texts().includes('sent while the host was down'), 10_000);

    const page = await bob.history('room');
    expect(page.messages.filter((m) => m.text === 'sent while the host was down')).toHaveLength(1);
    expect(bobTexts.texts().filter((t) => t === 'sent while the host was down')).toHaveLength(1);
    expect((await bob.groups()).groups.map((g) => g.name)).toEqual(['Keepers']);
    expect((await bob.history(group.conv)).messages.map((m) => m.text)).toEqual(['before restart']);
  });
});

describe('server log', () => {
  it('records connections, registrations, logins, failures, chat requests and disconnects with ISO times', async () => {
    const alice = await room.user('alice');
    await expect(login(room.host, 'alice', 'wrong')).rejects.toMatchObject({ code: ErrorCode.WRONG_PASSWORD });
    const bob = await room.user('bob');
    await alice.chatRequest('bob');
    await bob.chatAnswer('alice', true);
    bob.close();
    await nextEvent(alice, 'presence', (p) => p.user === 'bob' && !p.online);
    const entries = room.logText()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { time: string; event: string });
    const events = new Set(entries.map((e) => e.event));
    for (const event of ['listening', 'connection', 'registration', 'login', 'failed login', 'chat request', 'chat request answered', 'disconnect']) {
      expect(events, event).toContain(event);
    }
    for (const entry of entries) expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
