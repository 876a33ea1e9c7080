import { describe, expect, it } from 'vitest';
import { KeyedQueue, SerialQueue } from './serial.js';

const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('SerialQueue', () => {
  it('runs tasks one at a time in the order given, whatever each waits, and goes on after a failure', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`${name} start`);
      await later(ms);
      log.push(`${name} end`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = [queue.run(task('a', 20)), queue.run(task('b', 1, true)), queue.run(task('c', 5))];
    expect(queue.idle).toBe(false);
    expect(await Promise.allSettled(results)).toMatchObject([
      { status: 'fulfilled', value: 'a' },
      { status: 'rejected', reason: new Error('b') },
      { status: 'fulfilled', value: 'c' },
    ]);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    await later(0);
    expect(queue.idle).toBe(true);
  });
});

describe('KeyedQueue', () => {
  it('serialises per key and lets other keys run meanwhile', async () => {
    const queue = new KeyedQueue<number>();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`${name} start`);
      await later(ms);
      log.push(`${name} end`);
    };
    await Promise.all([queue.run(1, task('1a', 20)), queue.run(1, task('1b', 1)), queue.run(2, task('2a', 1))]);
    expect(log.indexOf('1b start')).toBeGreaterThan(log.indexOf('1a end'));
    expect(log.indexOf('2a end')).toBeLessThan(log.indexOf('1a end'));
  });

  it('runAll holds every key while its work runs, and two runAll over the same keys in other orders do not deadlock', async () => {
    const queue = new KeyedQueue<number>();
    const log: string[] = [];
    const all = queue.runAll([3, 1, 2], async () => {
      log.push('all start');
      await later(10);
      log.push('all end');
    });
    const reversed = queue.runAll([2, 1, 3], async () => void log.push('reversed'));
    while (!log.includes('all start')) await later(1);
    const one = queue.run(2, async () => void log.push('two'));
    await Promise.all([all, reversed, one]);
    expect(log.slice(0, 2)).toEqual(['all start', 'all end']);
    expect(log.slice(2).sort()).toEqual(['reversed', 'two']);
  });
});
