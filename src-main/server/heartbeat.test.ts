/**
 * Heartbeats race a clock (300 ms here): vitest.config.ts runs this file alone, after the rest.
 * server.test.ts has the server's other behaviour.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import { startPinger } from '../testing/pinger.js';
import { useRoom } from '../testing/room.js';

const room = useRoom();

describe('heartbeat', () => {
  it('drops a silent client, which is offline then', async () => {
    await room.start({ heartbeatTimeoutMs: 300 });
    const alice = await room.user('alice');
    const peer = await room.raw();
    await peer.login('mallory');
    await peer.waitFrame((f) => f.type === 'bye' && f.error.code === ErrorCode.HEARTBEAT_TIMEOUT);
    await room.gone('mallory');
    expect((await alice.request('users')).users.find((u) => u.name === 'mallory')).toMatchObject({ online: false });
    expect(alice.state).toBe('online');
    expect(room.logText()).toContain('"event":"heartbeat timeout"');
  });

  it("does not blame clients for the server's own stall", async () => {
    await room.start({ heartbeatTimeoutMs: 300 });
    const pinger = await startPinger(room.port, 'carol', PROTOCOL_VERSION);
    // The server's thread is busy for longer than the heartbeat; carol's pings wait in the socket.
    const until = Date.now() + 800;
    while (Date.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await pinger.stop()).pongs).toBeGreaterThan(0);
    expect(room.logText()).not.toContain('"event":"heartbeat timeout"');
    expect(room.logText()).toContain('"event":"server stalled"');
  });
});
