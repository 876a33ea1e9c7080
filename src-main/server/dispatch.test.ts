import { describe, expect, it } from 'vitest';
import { PerUserLimit } from './dispatch.js';

describe('PerUserLimit', () => {
  it("runs at most `limit` of a user's requests at once, the rest in arrival order, other users apart", async () => {
    const limit = new PerUserLimit(2);
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const work = (name: string) => () =>
      new Promise<string>((resolve) => {
        started.push(name);
        finish.set(name, () => resolve(name));
      });
    const results = ['a1', 'a2', 'a3', 'a4'].map((name) => limit.run(1, work(name)));
    const other = limit.run(2, work('b1'));
    await Promise.resolve();
    expect(started).toEqual(['a1', 'a2', 'b1']);
    finish.get('a2')!();
    await results[1];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    // A newcomer while others wait queues behind them, even if a slot is momentarily free.
    finish.get('a1')!();
    const late = limit.run(1, work('a5'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3', 'a4']);
    for (const name of ['a3', 'a4', 'b1']) finish.get(name)!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started.at(-1)).toBe('a5');
    finish.get('a5')!();
    expect(await Promise.all([...results, other, late])).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'a5']);
  });

  it('passes synchronous work and its errors straight through and frees the slot', () => {
    const limit = new PerUserLimit(1);
    expect(limit.run(1, () => 42)).toBe(42);
    expect(() => limit.run(1, () => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(limit.run(1, () => 'free again')).toBe('free again');
  });
});
