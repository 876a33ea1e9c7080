/**
 * Faults a server must survive under a load one client makes: frames that trickle in, one user keeping
 * the server busy, a registration storm. Each asserts what happens, not how fast: how fast is
 * `npm run bench` (history: the bystander's round trips during the search attack; bench/login-throttle.ts:
 * a real login during a storm). faults.test.ts has the other faults.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import { encodeFrame } from '../net/frame.js';
import { openStore } from '../store/store.js';
import { stillServing, waitFor } from '../testing/harness.js';
import { startPinger } from '../testing/pinger.js';
import { runStorm } from '../testing/storm.js';
import { useRoom } from '../testing/room.js';

const room = useRoom();

describe('timeouts', () => {
  it('closes a logged-in client that trickles half a frame, though bytes keep coming', async () => {
    await room.start({ frameTimeoutMs: 400, heartbeatTimeoutMs: 20_000 });
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const staller = await room.raw();
    await staller.login('staller');
    staller.write(Buffer.from([0, 0, 0, 100, 0x7b]));
    // One byte every 50 ms: never silent long enough for the heartbeat, never finishing the frame.
    const trickle = setInterval(() => staller.write('x'), 50);
    try {
      const bye = await staller.waitFrame((f) => f.type === 'bye');
      expect(bye).toMatchObject({ error: { code: ErrorCode.FRAME_TIMEOUT } });
      await staller.waitClosed();
    } finally {
      clearInterval(trickle);
    }
    await stillServing(alice, bob, 'after the staller');
    expect(room.logText()).toContain('"event":"frame timeout"');
  });

  it('keeps a client that sends a large frame slowly but steadily, frame after frame', async () => {
    await room.start({ frameTimeoutMs: 1500 });
    const peer = await room.raw();
    await peer.login('slowpoke');
    for (let i = 0; i < 12; i++) {
      const frame = Buffer.from(JSON.stringify({ type: 'users', id: 100 + i }));
      const bytes = Buffer.concat([Buffer.from([0, 0, 0, frame.length]), frame]);
      // Each frame takes ~150 ms, a tenth of the frame timeout; the twelve together take longer than it.
      peer.write(bytes.subarray(0, 10));
      await new Promise((resolve) => setTimeout(resolve, 150));
      peer.write(bytes.subarray(10));
      await peer.waitFrame((f) => f.type === 'res' && f.id === 100 + i);
    }
    expect(peer.closed).toBe(false);
  });
});

describe('a server busy with one user', () => {
  it('freeze: 80 pipelined one-letter searches over a large room; bystanders keep chatting, every ping is answered and no one is dropped', async () => {
    // A large room, written before the host starts: 20,000 messages without the letter searched for.
    const store = openStore(join(room.dir, 'chat.sqlite'));
    const filler = store.createUser({ name: 'filler', nameKey: 'filler', skeleton: 'filler', passwordHash: 'x', createdAt: 1 });
    for (let batch = 0; batch < 20; batch++) {
      store.insertMessages(
        Array.from({ length: 1000 }, (_, i) => ({
          conv: 'room',
          senderId: filler.id,
          clientMsgId: `f${batch}-${i}`,
          text: `hello world, this is message ${batch * 1000 + i} of the filler`,
          ts: 1,
        })),
      );
    }
    await store.close();
    await room.start();
    const [alice, bob] = [await room.user('alice'), await room.user('bob')];
    const bystanders = [await startPinger(room.port, 'carol', PROTOCOL_VERSION), await startPinger(room.port, 'dave', PROTOCOL_VERSION)];
    const attacker = await room.raw();
    await attacker.login('mallory');
    const searches = Array.from({ length: 80 }, (_, i) => encodeFrame({ type: 'search', id: 100 + i, query: 'q' }));
    attacker.write(Buffer.concat(searches));
    for (let i = 0; i < 5; i++) await stillServing(alice, bob, `during the searches ${i}`);
    await waitFor(() => attacker.frames.filter((f) => f.type === 'res' && f.id >= 100).length === 80, 30_000, 'every search answered');
    const stats = await Promise.all(bystanders.map((bystander) => bystander.stop()));
    for (const { pings, pongs, closed } of stats) {
      expect(pings).toBeGreaterThan(0);
      expect(pongs).toBe(pings);
      expect(closed).toBe(false);
    }
    await stillServing(alice, bob, 'after the searches');
    expect(attacker.closed).toBe(false);
  });
});

describe('a registration storm', () => {
  it('storm: connect-register-close cycles from many addresses, without end; a real user with the real scrypt cost gets in while it goes on, and the storm registers no more than the limits allow', async () => {
    await room.start({ passwordCost: 15, limits: { registrationsPerMinute: 30, addressRegistrationsPerMinute: 5 } });
    (await room.user('alice')).close();
    const storm = runStorm(room.port, PROTOCOL_VERSION);
    let alice;
    try {
      await waitFor(() => storm.cycles() >= 20, 30_000, 'the storm under way');
      alice = await room.user('alice');
      expect(alice.state).toBe('online');
    } finally {
      await storm.stop();
    }
    const users = (await alice.request('users')).users;
    // The room's bucket: a burst of 30, then 30 a minute; the test ends within its 30 s timeout, so under a minute's worth more.
    expect(users.filter((user) => user.name.startsWith('junk')).length).toBeLessThanOrEqual(60);
  });
});
