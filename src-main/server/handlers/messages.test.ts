import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import type { ServerFrame } from '../../../src-shared/protocol/pushes.js';
import { ChatClient } from '../../client/client.js';
import { encodeFrame } from '../../net/frame.js';
import { collectMessages, nextEvent, waitFor } from '../../testing/harness.js';
import { useRoom } from '../../testing/room.js';

const room = useRoom({ start: {} });

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
    const joined = nextEvent(alice, 'presence', (p) => p.users.some((state) => state.user === 'bob' && state.online));
    const bob = await room.user('bob');
    expect((await joined)[0].users.find((state) => state.user === 'bob')!.ts).toBeGreaterThan(0);
    const left = nextEvent(alice, 'presence', (p) => p.users.some((state) => state.user === 'bob' && !state.online));
    bob.close();
    await left;
    const { users } = await alice.request('users');
    expect(users.find((u) => u.name === 'bob')).toMatchObject({ online: false });
    expect(users.find((u) => u.name === 'alice')).toMatchObject({ online: true });
  });

  it('stores a resent message once', async () => {
    const alice = await room.user('alice');
    const first = await alice.request('send', { clientMsgId: 'same', to: { kind: 'room' }, text: 'once' });
    const second = await alice.request('send', { clientMsgId: 'same', to: { kind: 'room' }, text: 'once' });
    expect(second).toMatchObject({ duplicate: true, message: { id: first.message.id } });
    const page = await alice.request('history', { conv: 'room' });
    expect(page.messages.filter((m) => m.text === 'once')).toHaveLength(1);
  });
});

describe('a resend', () => {
  it('is answered as the message stored, whatever changed since: the sender muted, the day’s quota used up, the chat declined', async () => {
    await room.restart({ maxUserBytesPerDay: 12 });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const toRoom = await alice.request('send', { clientMsgId: 'r1', to: { kind: 'room' }, text: 'hello room' });
    const toBob = await alice.request('send', { clientMsgId: 'd1', to: { kind: 'dm', user: 'bob' }, text: 'hi' });
    await bob.request('chatAnswer', { user: 'alice', accept: false });
    // The day's quota: 10 of 12 bytes used, so neither resend would pass as a new message.
    await expect(alice.request('send', { clientMsgId: 'r2', to: { kind: 'room' }, text: 'again' })).rejects.toMatchObject({ code: ErrorCode.STORAGE_FULL });
    // Bob is online, but a duplicate was pushed to nobody.
    expect(await alice.request('send', { clientMsgId: 'r1', to: { kind: 'room' }, text: 'hello room' })).toMatchObject({ duplicate: true, delivered: false, message: { id: toRoom.message.id } });
    expect(await alice.request('send', { clientMsgId: 'd1', to: { kind: 'dm', user: 'bob' }, text: 'hi' })).toMatchObject({ duplicate: true, message: { id: toBob.message.id } });
    await room.host.server.admin.mute('alice', 5);
    await expect(alice.request('send', { clientMsgId: 'r3', to: { kind: 'room' }, text: '.' })).rejects.toMatchObject({ code: ErrorCode.MUTED });
    expect(await alice.request('send', { clientMsgId: 'r1', to: { kind: 'room' }, text: 'hello room' })).toMatchObject({ duplicate: true, message: { id: toRoom.message.id } });
    expect(await alice.request('send', { clientMsgId: 'd1', to: { kind: 'dm', user: 'bob' }, text: 'hi' })).toMatchObject({ duplicate: true, message: { id: toBob.message.id } });
    expect((await alice.request('history', { conv: 'room' })).messages.map((message) => message.text)).toEqual(['hello room']);
  });

  it('that passes every check is found by the insert: answered as the message stored, pushed to nobody again', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const pushed = collectMessages(bob);
    const first = await alice.request('send', { clientMsgId: 'p1', to: { kind: 'room' }, text: 'once only' });
    expect(await alice.request('send', { clientMsgId: 'p1', to: { kind: 'room' }, text: 'once only' })).toMatchObject({ duplicate: true, delivered: false, message: { id: first.message.id } });
    await bob.request('users');
    expect(pushed.texts()).toEqual(['once only']);
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
    await waitFor(() => acked.length === senders.length * perSender && received.ids().length === acked.length, 'every ack and push');
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

describe("one connection's pipelined sends", () => {
  it('are answered in the order sent when their commit refuses one for the daily quota', async () => {
    await room.restart({ maxUserBytesPerDay: 10 });
    const alice = await room.raw();
    await alice.login('alice');
    const sends = [
      ['a1', 'aaaa'],
      ['b2', 'bbbbbbbbbb'],
      ['c3', 'cc'],
    ];
    alice.write(Buffer.concat(sends.map(([clientMsgId, text], index) => encodeFrame({ type: 'send', id: 500 + index, clientMsgId, to: { kind: 'room' }, text }))));
    const answers = (): ServerFrame[] => alice.frames.filter((frame) => frame.type === 'res' && frame.id >= 500);
    await waitFor(() => answers().length === sends.length, 'every answer');
    expect(answers()).toMatchObject([
      { id: 500, ok: true, result: { message: { text: 'aaaa' } } },
      { id: 501, ok: false, error: { code: ErrorCode.STORAGE_FULL } },
      { id: 502, ok: true, result: { message: { text: 'cc' } } },
    ]);
  });
});

describe('the daily quota', () => {
  it('counts an edit’s new text as a message: past the quota the edit is refused and the text unchanged (issue 33, item 5)', async () => {
    await room.restart({ maxUserBytesPerDay: 30 });
    const alice = await room.raw();
    await alice.login('alice');
    const sent = (await alice.request('send', { clientMsgId: 'q1', to: { kind: 'room' }, text: 'ten bytes!' })) as { result: { message: { id: number } } };
    const messageId = sent.result.message.id;
    expect(await alice.request('edit', { messageId, text: 'ten again!' })).toMatchObject({ ok: true });
    const refused = await alice.request('edit', { messageId, text: 'eleven bytes' });
    expect(refused).toMatchObject({ ok: false, error: { code: ErrorCode.STORAGE_FULL, retryAfterMs: expect.any(Number) } });
    expect(await alice.request('history', { conv: 'room' })).toMatchObject({ ok: true, result: { messages: [{ id: messageId, text: 'ten again!' }] } });
    // Sends share what is left: 10 bytes.
    expect(await alice.request('send', { clientMsgId: 'q2', to: { kind: 'room' }, text: 'ten bytes.' })).toMatchObject({ ok: true });
    expect(await alice.request('send', { clientMsgId: 'q3', to: { kind: 'room' }, text: '!' })).toMatchObject({ ok: false, error: { code: ErrorCode.STORAGE_FULL } });
  });
});

describe('the database', () => {
  /** Bytes of the room's database files: the database, its write-ahead log and its search index. */
  const databaseBytes = (): number =>
    readdirSync(room.dir, { recursive: true, encoding: 'utf8' })
      .filter((name) => /\.sqlite(-wal|-search)?$/.test(name))
      .reduce((total, name) => total + statSync(join(room.dir, name)).size, 0);

  it('grows by little more than the text sent, of U+FDFA (18 letters under NFKC) as of any text that folds to itself (issue 33, item 7)', async () => {
    const alice = await room.user('alice');
    await room.stop();
    const before = databaseBytes();
    await room.start();
    const sender = await room.user('alice');
    const text = '\uFDFA'.repeat(8000);
    for (let i = 0; i < 150; i++) await sender.send({ kind: 'room' }, text);
    const sent = 150 * Buffer.byteLength(text);
    alice.close();
    await room.stop();
    // The search copy of a text that folds to itself was a second copy: 2.1× what was sent, 2.4× with the log.
    expect((databaseBytes() - before) / sent).toBeLessThan(1.3);
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
    await waitFor(() => seen.every((s) => s.ids().length === 30), 'every message at every sender');
    for (const s of seen) expect(s.ids()).toEqual([...s.ids()].sort((a, b) => a - b));
  });
});

describe('history, offline delivery and search', () => {
  it('pages history backwards, oldest first within a page', async () => {
    const alice = await room.user('alice');
    for (let i = 1; i <= 7; i++) await alice.send({ kind: 'room' }, `m${i}`);
    const latest = await alice.request('history', { conv: 'room', limit: 3 });
    expect(latest.messages.map((m) => m.text)).toEqual(['m5', 'm6', 'm7']);
    expect(latest.hasMore).toBe(true);
    const older = await alice.request('history', { conv: 'room', before: latest.messages[0]!.id, limit: 10 });
    expect(older.messages.map((m) => m.text)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(older.hasMore).toBe(false);
  });

  it('tells with each history page how far your messages in it reached another reader, online or not', async () => {
    const alice = await room.user('alice');
    const first = await alice.send({ kind: 'room' }, 'nobody else here yet');
    expect((await alice.request('history', { conv: 'room' })).deliveredUpTo).toBe(0);
    const bob = await room.user('bob');
    const second = await alice.send({ kind: 'room' }, 'bob is here');
    await alice.send({ kind: 'dm', user: 'bob' }, 'just for bob');
    // bob is online: he has everything.
    expect((await alice.request('history', { conv: 'room' })).deliveredUpTo).toBeGreaterThanOrEqual(second.id);
    bob.close();
    await room.gone('bob');
    const third = await alice.send({ kind: 'room' }, 'bob has left');
    // Offline, bob reached what he was sent before leaving, not what came after.
    const page = await alice.request('history', { conv: 'room' });
    expect(page.deliveredUpTo).toBeGreaterThanOrEqual(Math.max(first.id, second.id));
    expect(page.deliveredUpTo).toBeLessThan(third.id);
  });

  it('searches by word, part of a word, one letter, Turkish case and person', async () => {
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    await alice.send({ kind: 'room' }, 'selam herkese');
    await bob.send({ kind: 'room' }, 'İSTANBUL çok güzel');
    await bob.send({ kind: 'room' }, 'xyz');
    const texts = async (query: string, person?: string) =>
      (await alice.request('search', { query, ...(person ? { person } : {}) })).hits.map((h) => h.message.text);
    expect(await texts('sel')).toEqual(['selam herkese']);
    expect(await texts('istanbul')).toEqual(['İSTANBUL çok güzel']);
    expect(await texts('ıstanbul')).toEqual(['İSTANBUL çok güzel']);
    expect(await texts('GUZEL')).toEqual(['İSTANBUL çok güzel']);
    expect(await texts('o')).toEqual(['İSTANBUL çok güzel']);
    expect(await texts('', 'bob')).toEqual(['xyz', 'İSTANBUL çok güzel']);
    await expect(alice.request('search', { query: '', person: 'nobody' })).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_USER });
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
    await room.gone('bob');
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
    await alice.request('users');
    expect(bobRequests).toEqual([]);
    expect((await bob.request('contacts')).contacts).toEqual([]);
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
    expect((await reader.request('history', { conv: 'room' })).messages).toEqual([]);
  });

  it('serves a page of the largest messages in one frame without dropping the reader', async () => {
    const alice = await room.user('alice');
    const heavy = '\u0001'.repeat(8000);
    for (let i = 0; i < 200; i++) await alice.send({ kind: 'room' }, heavy);
    const bob = await room.user('bob');
    const page = await bob.request('history', { conv: 'room', limit: 200 });
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
    expect((await newcomer.request('history', { conv: 'room' })).messages.map((m) => m.text)).toEqual(['old news']);
  });
});

