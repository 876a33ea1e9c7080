/**
 * Faults a server must survive: idle connections, a client that never reads, a full disk and a locked database.
 * Real sockets on 127.0.0.1, real SQLite files. Those under one client's load (a trickle, a search flood, a storm) are in faults-load.test.ts.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { openStore, StoreOpenError } from '../store/store.js';
import { type RawPeer, collectMessages, nextEvent, stillServing, waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';

const room = useRoom();

describe('timeouts', () => {
  it('closes a connection that opens and idles without hello', async () => {
    // Long enough for alice and bob to log in on a loaded machine; the idler outlasts it.
    await room.start({ authTimeoutMs: 3000 });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const idler = await room.raw();
    const bye = await idler.waitFrame((f) => f.type === 'bye', 20_000);
    expect(bye).toMatchObject({ error: { code: ErrorCode.NOT_LOGGED_IN } });
    await idler.waitClosed();
    await stillServing(alice, bob, 'after the idler');
  });

  // A thousand TLS handshakes: seconds on a quiet machine, many more on a loaded one. The host's TLS gate
  // drops a handshake idle for the login timeout, without a bye (it has no channel yet): at 1 s, a loaded
  // run saw the gate drop one whose client had finished its side while the host was still behind.
  it('times out 1,000 connections that never log in while two users keep chatting', async () => {
    await room.start({ authTimeoutMs: 3000 });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const idlers: RawPeer[] = [];
    for (let wave = 0; wave < 10; wave++) {
      const opened = await Promise.all([...Array(100).keys()].map(() => room.raw()));
      // A third say hello (and stop there); the rest say nothing at all.
      for (const [i, peer] of opened.entries()) if (i % 3 === 0) void peer.hello().catch(() => undefined);
      idlers.push(...opened);
      await stillServing(alice, bob, `wave ${wave}`);
    }
    expect(room.host.server.connectionStats().length).toBeGreaterThan(2);
    await waitFor(() => idlers.every((peer) => peer.closed), 20_000, 'every idler to be closed');
    for (const peer of idlers) {
      expect(peer.frames.find((f) => f.type === 'bye')).toMatchObject({ error: { code: ErrorCode.NOT_LOGGED_IN } });
    }
    await waitFor(() => room.host.server.connectionStats().length === 2, 'only the two users left');
    await stillServing(alice, bob, 'after the idlers');
  });
});

describe('a client that never reads', () => {
  it('holds at most the cap for it, keeps the others served while it stalls, then drops it with a reason', async () => {
    const cap = 256 * 1024;
    await room.start({ maxQueuedBytes: cap, rateLimits: { framesPerSecond: Infinity, bytesPerSecond: Infinity } });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const atBob = collectMessages(bob);
    const sleeper = await room.raw();
    await sleeper.login('sleeper');
    sleeper.socket.pause();
    const sleeperStats = () => room.host.server.connectionStats().find((c) => c.user === 'sleeper');

    // Each message is ~48 KB on the wire (8000 control characters, escaped).
    const text = '\u0001'.repeat(8000);
    let sent = 0;
    let largest = 0;
    let checkedWhileStalled = false;
    while (sleeperStats() && sent < 2000) {
      await alice.send({ kind: 'room' }, text);
      sent += 1;
      const queued = sleeperStats()?.queuedBytes ?? 0;
      largest = Math.max(largest, queued);
      if (queued > 0 && !checkedWhileStalled) {
        // The sleeper has a backlog on the server; bob is still served in full.
        await waitFor(() => atBob.texts().length === sent, 'bob to get every message while the sleeper stalls');
        expect(sleeperStats()).toBeDefined();
        checkedWhileStalled = true;
      }
    }
    expect(checkedWhileStalled).toBe(true);
    expect(sleeperStats()).toBeUndefined();
    // The cap is checked before each write, so one frame may sit on top of it.
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(cap + 64 * 1024);
    await waitFor(() => atBob.texts().length === sent, 'bob to get every message');
    expect(room.logText()).toMatch(/"event":"disconnect".*"user":"sleeper".*"reason":"SLOW_CONSUMER"/);
  });
});

describe('storage faults', () => {
  it('answers a send on a full disk with STORAGE_FULL: not acknowledged, not broadcast, earlier messages kept', async () => {
    await room.start({ maxDatabaseBytes: 512 * 1024 });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const atBob = collectMessages(bob);
    const failures: string[] = [];
    alice.on('sendFailed', ({ error }) => failures.push(error.code));
    const stored: number[] = [];
    let refusal: unknown;
    for (let i = 0; i < 200 && refusal === undefined; i++) {
      try {
        stored.push((await alice.send({ kind: 'room' }, `${i} ${'payload '.repeat(900)}`)).id);
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toMatchObject({ code: ErrorCode.STORAGE_FULL, message: expect.stringContaining('out of disk space') });
    expect(failures).toEqual([ErrorCode.STORAGE_FULL]);
    expect(stored.length).toBeGreaterThan(0);

    // Nothing of the refused message reached anyone or the history; everything acknowledged is there.
    const history = await bob.request('history', { conv: 'room', limit: 200 });
    expect(history.messages.map((m) => m.id)).toEqual(stored);
    await waitFor(() => atBob.ids().length >= stored.length, 'bob to get the stored messages');
    expect(atBob.ids()).toEqual(stored);
    expect((await alice.request('users')).users.map((u) => u.name).sort()).toEqual(['alice', 'bob']);
    expect(room.logText()).toContain('database or disk is full');
  });

  it('keeps a send queued with the reason while another program holds the database locked, and stores it once after', async () => {
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const atBob = collectMessages(bob);
    const kept = await alice.send({ kind: 'room' }, 'before the lock');
    const other = new Database(join(room.dir, 'chat.sqlite'));
    other.exec('BEGIN EXCLUSIVE');
    let whileLocked: Promise<unknown>;
    try {
      const retrying = nextEvent(alice, 'sendRetrying');
      whileLocked = alice.send({ kind: 'room' }, 'while locked');
      const [{ error }] = await retrying;
      expect(error).toMatchObject({ code: ErrorCode.INTERNAL, message: 'the host database is busy; try again' });
      expect(alice.unsent.map((item) => item.text)).toEqual(['while locked']);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await whileLocked;
    await stillServing(alice, bob, 'after the lock');
    expect(atBob.texts()).toEqual(['before the lock', 'while locked', 'after the lock']);
    expect((await bob.request('history', { conv: 'room' })).messages.map((m) => m.id)).toEqual([kept.id, ...atBob.ids().slice(1)]);
  });

  it('refuses to open a database another program holds locked, with a clear error, and changes nothing', async () => {
    const file = join(room.dir, 'chat.sqlite');
    openStore(file).close();
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');
    try {
      // A short wait for the lock: the refusal is the same after the real 2 s.
      expect(() => openStore(file, { openLockWaitMs: 100 })).toThrow(StoreOpenError);
      await expect(room.start({ openLockWaitMs: 100 })).rejects.toThrow(/is locked by another program \(is another LanChat host using this folder\?\)/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await room.start();
    expect(room.host.address.port).toBeGreaterThan(0);
  });
});
