import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { type ServerFrame } from '../../src-shared/protocol/pushes.js';
import { collectMessages, waitFor } from '../testing/harness.js';
import { useRoom } from '../testing/room.js';
import { ConnectionRateLimiter, type RateLimits, resolveRateLimits } from './rate-limit.js';

describe('ConnectionRateLimiter', () => {
  const limits = { framesPerSecond: 10, frameBurst: 3, bytesPerSecond: 1000, byteBurst: 2000 };

  it('lets a burst through, then one frame per 1/rate, and says how long to wait', () => {
    const limiter = new ConnectionRateLimiter(limits, 0);
    expect([limiter.admit(10, 0), limiter.admit(20, 0), limiter.admit(30, 0)]).toEqual([0, 0, 0]);
    expect(limiter.admit(40, 0)).toBe(100);
    expect(limiter.admit(50, 50)).toBe(50);
    expect(limiter.admit(60, 100)).toBe(0);
    expect(limiter.admit(70, 100)).toBe(100);
  });

  it('lets a frame into byte debt, then refuses until the debt is paid, counting refused bytes too', () => {
    const limiter = new ConnectionRateLimiter({ ...limits, frameBurst: 100 }, 0);
    expect(limiter.admit(5000, 0)).toBe(0); // 3000 bytes of debt
    expect(limiter.admit(5500, 1000)).toBe(2500); // 2000 left + these 500 = 2500 ms
    expect(limiter.admit(5500, 3500)).toBe(0);
  });

  it('turns a limit off with Infinity and refuses limits that would stop everyone', () => {
    const limiter = new ConnectionRateLimiter(resolveRateLimits({ framesPerSecond: Infinity, bytesPerSecond: Infinity }), 0);
    for (let i = 1; i <= 10_000; i++) expect(limiter.admit(i * 1_000_000, 0)).toBe(0);
    expect(() => resolveRateLimits({ framesPerSecond: 0 })).toThrow(/framesPerSecond must be above 0/);
    expect(() => resolveRateLimits({ byteBurst: -1 })).toThrow(RangeError);
    expect(() => resolveRateLimits({ frameBurst: 0.5 })).toThrow(/at least 1/);
  });
});

describe('rate limits over real sockets', () => {
  const room = useRoom();

  const start = (rateLimits: Partial<RateLimits>) => room.start({ rateLimits });

  it('refuses a flooder with RATE_LIMITED, keeps it connected, and keeps serving the others', async () => {
    const limits = { framesPerSecond: 20, frameBurst: 20 };
    await start(limits);
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
    await waitFor(() => atCarol.texts().filter((t) => t.startsWith('bob ')).length === 10, 10_000, 'bob at carol');
    // Bob got through while the flood was still being worked off.
    const answered = (): ServerFrame[] => flooder.frames.filter((f) => f.type === 'res' && f.id >= 1000);
    expect(answered().length).toBeLessThan(flood);

    // On a loaded machine bob can be through before the flooder's 21st frame is read: wait for its refusal.
    const refused = await flooder.waitFrame((f) => f.type === 'res' && f.id >= 1000 && !f.ok, 10_000);
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

  it('lets the client resend what was refused for its rate: every message stored once, none failed', async () => {
    await start({ framesPerSecond: 20, frameBurst: 5 });
    const alice = await room.user('alice');
    const failed: string[] = [];
    alice.on('sendFailed', ({ error }) => failed.push(error.code));
    const texts = [...Array(40).keys()].map((i) => `burst ${i}`);
    const sent = await Promise.all(texts.map((text) => alice.send({ kind: 'room' }, text)));
    expect(failed).toEqual([]);
    expect(new Set(sent.map((m) => m.id)).size).toBe(40);
    const page = await alice.request('history', { conv: 'room', limit: 100 });
    expect(page.messages.map((m) => m.text).sort()).toEqual([...texts].sort());
    expect(room.logText()).toContain('"event":"rate limited"');
  });
});

function lengthPrefix(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length, 0);
  return header;
}

