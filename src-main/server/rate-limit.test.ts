import { describe, expect, it } from 'vitest';
import { useRoom } from '../testing/room.js';
import { ConnectionRateLimiter, resolveRateLimits } from './rate-limit.js';

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

  it('lets the client resend what was refused for its rate: every message stored once, none failed', async () => {
    await room.start({ rateLimits: { framesPerSecond: 20, frameBurst: 5 } });
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
