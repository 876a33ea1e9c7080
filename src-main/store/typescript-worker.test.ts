import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ThreadCalls } from './typescript-worker.js';

/** A thread that answers `{ id, wait }` after `wait` ms with `{ id, value: id * 10 }`, exits on `{ exit }`, ends on `{ close }`. */
const echo = (): Worker =>
  new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (message) => {
       if (message.exit !== undefined) process.exit(message.exit);
       if (message.close) return parentPort.close();
       setTimeout(() => parentPort.postMessage({ id: message.id, value: message.id * 10 }), message.wait);
     });`,
    { eval: true },
  );

describe('ThreadCalls', () => {
  it('answers each call with the reply carrying its id, whatever order the replies come in', async () => {
    const calls = new ThreadCalls<{ id: number; value: number }>(echo(), 'the echo');
    const slow = calls.call((id) => ({ id, wait: 100 }));
    const quick = calls.call((id) => ({ id, wait: 0 }));
    expect(calls.underWay).toBe(2);
    expect(await quick).toEqual({ id: 2, value: 20 });
    expect(await slow).toEqual({ id: 1, value: 10 });
    expect(calls.underWay).toBe(0);
    await calls.close({ close: true });
  });

  it('fails the calls under way, and every later one, once the thread has ended, saying so', async () => {
    const calls = new ThreadCalls<{ id: number; value: number }>(echo(), 'the echo');
    const waiting = calls.call((id) => ({ id, wait: 60_000 }));
    void calls.call(() => ({ exit: 3 })).catch(() => undefined);
    await expect(waiting).rejects.toThrow('the echo stopped (exit code 3)');
    await expect(calls.call((id) => ({ id, wait: 0 }))).rejects.toThrow('the echo stopped (exit code 3)');
    expect(calls.failed?.message).toBe('the echo stopped (exit code 3)');
  });

  it('closes: the calls under way fail with the error given, and the close resolves once the thread has ended', async () => {
    const calls = new ThreadCalls<{ id: number; value: number }>(echo(), 'the echo');
    const waiting = calls.call((id) => ({ id, wait: 60_000 }));
    let ended = false;
    void calls.exited.then(() => (ended = true));
    const closing = calls.close({ exit: 0 }, new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    await closing;
    expect(ended).toBe(true);
  });
});
