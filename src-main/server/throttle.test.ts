import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './throttle.js';

describe('LoginThrottle', () => {
  it('lets five failures pass, then blocks for a delay that doubles up to the cap', () => {
    const throttle = new LoginThrottle({ freeFailures: 5, baseDelayMs: 1000, maxDelayMs: 4000 });
    const keys = ['name:bob'];
    for (let i = 0; i < 4; i++) throttle.recordFailure(keys, 0);
    expect(throttle.retryAfterMs(keys, 0)).toBe(0);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      throttle.recordFailure(keys, 100_000 * i);
      delays.push(throttle.retryAfterMs(keys, 100_000 * i));
    }
    expect(delays).toEqual([1000, 2000, 4000, 4000]);
    expect(throttle.retryAfterMs(keys, 300_000 + 3999)).toBe(1);
    expect(throttle.retryAfterMs(keys, 300_000 + 4000)).toBe(0);
  });

  it('blocks when any key is blocked and resets one key alone', () => {
    const throttle = new LoginThrottle({ freeFailures: 1, baseDelayMs: 500 });
    throttle.recordFailure(['name:bob', 'address:10.0.0.1'], 0);
    expect(throttle.retryAfterMs(['name:eve', 'address:10.0.0.1'], 0)).toBe(500);
    throttle.reset('name:bob');
    expect(throttle.retryAfterMs(['name:bob'], 0)).toBe(0);
    expect(throttle.retryAfterMs(['address:10.0.0.1'], 0)).toBe(500);
  });

  it('counts checks under way as failures to come, and only near the limit', () => {
    const throttle = new LoginThrottle({ freeFailures: 3, baseDelayMs: 500 });
    const keys = ['address:10.0.0.1'];
    const first = throttle.begin(keys);
    const second = throttle.begin(keys);
    expect(throttle.retryAfterMs(keys, 0)).toBe(0);
    throttle.recordFailure(keys, 0);
    expect(throttle.retryAfterMs(keys, 0)).toBe(500);
    first();
    first();
    expect(throttle.retryAfterMs(keys, 0)).toBe(0);
    second();
    expect(throttle.retryAfterMs(keys, 0)).toBe(0);
  });

  it('forgets a key after a quiet spell', () => {
    const throttle = new LoginThrottle({ freeFailures: 2, baseDelayMs: 500, forgetAfterMs: 1000 });
    throttle.recordFailure(['a'], 0);
    throttle.recordFailure(['a'], 2000);
    expect(throttle.retryAfterMs(['a'], 2000)).toBe(0);
    throttle.recordFailure(['a'], 2500);
    expect(throttle.retryAfterMs(['a'], 2500)).toBe(500);
  });

  it('keeps at most maxKeys, dropping the least recently failed', () => {
    const throttle = new LoginThrottle({ freeFailures: 1, baseDelayMs: 500, maxKeys: 2 });
    for (const key of ['a', 'b', 'c']) throttle.recordFailure([key], 0);
    expect(throttle.retryAfterMs(['a'], 1)).toBe(0);
    expect(throttle.retryAfterMs(['b'], 1)).toBe(499);
    expect(throttle.retryAfterMs(['c'], 1)).toBe(499);
  });
});
