/**
 * A flood refused while it is still being worked off: at 20 frames a second, 1,000 frames take the server
 * close to a minute, so a loaded machine makes the bob-got-through check only easier, and the stored count's
 * bound grows with the time the test took. rate-limit.test.ts has the limiter itself and a client's resends.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { type ServerFrame } from '../../src-shared/protocol/pushes.js';
import { collectMessages, waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';

describe('rate limits over real sockets', () => {
  const room = useRoom();

  it('refuses a flooder with RATE_LIMITED, keeps it connected, and keeps serving the others', async () => {
    const limits = { framesPerSecond: 20, frameBurst: 20 };
    await room.start({ rateLimits: limits });
    const bob = await room.user('bob');
    const carol = await room.user('carol');
    const atCarol = collectMessages(carol);
    const flooder = await room.raw();
    await flooder.login('flooder');

    const started = Date.now();
    const flood = 1000;
    const batch: Buffer[] = [];
    for (let i = 0; i < flood; i++) {
      batch.push(Buffer.from(JSON.stringify({ type: 'send', id: 1000 + i, clientMsgId: `f${i}`, to: { kind: 'room' }, text: `flood ${i}` })));
    }
    flooder.write(Buffer.concat(batch.flatMap((payload) => [lengthPrefix(payload.length), payload])));

    for (let i = 0; i < 10; i++) await bob.send({ kind: 'room' }, `bob ${i}`);
    await waitFor(() => atCarol.texts().filter((t) => t.startsWith('bob ')).length === 10, 'bob at carol');
    // Bob got through while the flood was still being worked off.
    const answered = (): ServerFrame[] => flooder.frames.filter((f) => f.type === 'res' && f.id >= 1000);
    expect(answered().length).toBeLessThan(flood);

    // On a loaded machine bob can be through before the flooder's 21st frame is read: wait for its refusal.
    const refused = await flooder.waitFrame((f) => f.type === 'res' && f.id >= 1000 && !f.ok);
    expect(refused).toMatchObject({ ok: false, error: { code: ErrorCode.RATE_LIMITED, retryAfterMs: expect.any(Number) } });
    const message = (refused as { error: { message: string } }).error.message;
    expect(message).toContain('20 frames/s');
    expect(flooder.closed).toBe(false);

    // The bucket's bound: no more stored than the burst plus the rate over the time elapsed.
    flooder.destroy();
    const elapsedSeconds = (Date.now() - started) / 1000;
    const stored = await carol.request('sync', { after: 0, limit: 200 });
    const flooded = stored.messages.filter((m) => m.from === 'flooder').length;
    expect(flooded).toBeGreaterThanOrEqual(limits.frameBurst - 2);
    expect(flooded).toBeLessThanOrEqual(limits.frameBurst + Math.ceil(limits.framesPerSecond * elapsedSeconds));
    expect(atCarol.texts().filter((t) => t.startsWith('bob '))).toEqual([...Array(10).keys()].map((i) => `bob ${i}`));
  });
});

function lengthPrefix(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length, 0);
  return header;
}

