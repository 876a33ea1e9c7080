import { describe, expect, it } from 'vitest';
import { ScryptDropped, ScryptQueue, hashPassword, verifyPassword } from './password.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ScryptQueue', () => {
  it('runs at most `concurrency` at once, logins before registrations, and drops work nobody waits for any more', async () => {
    const queue = new ScryptQueue(1);
    const order: string[] = [];
    const releases: (() => void)[] = [];
    const job = (name: string) => () =>
      new Promise<string>((resolve) => {
        order.push(name);
        releases.push(() => resolve(name));
      });
    let gone = false;
    const first = queue.run('register', () => true, job('register 1'));
    const second = queue.run('register', () => true, job('register 2'));
    const dropped = queue.run('register', () => !gone, job('register of a closed connection'));
    const login = queue.run('login', () => true, job('login'));
    gone = true;
    expect(order).toEqual(['register 1']);
    releases.shift()!();
    await first;
    await tick();
    expect(order).toEqual(['register 1', 'login']);
    releases.shift()!();
    await login;
    await tick();
    releases.shift()!();
    await second;
    await expect(dropped).rejects.toBeInstanceOf(ScryptDropped);
    expect(order).toEqual(['register 1', 'login', 'register 2']);
  });

  it('checks a password from an address its account logged in from ahead of guesses from elsewhere', async () => {
    const queue = new ScryptQueue(1);
    const order: string[] = [];
    const job = (name: string) => async () => void order.push(name);
    const running = queue.run('login', () => true, () => new Promise<void>((resolve) => setTimeout(resolve, 10)));
    const guesses = [1, 2, 3].map((i) => queue.run('login', () => true, job(`guess ${i}`)));
    const owner = queue.run('known', () => true, job('owner'));
    await Promise.all([running, owner, ...guesses]);
    expect(order).toEqual(['owner', 'guess 1', 'guess 2', 'guess 3']);
  });

  it('hashes and verifies through the queue with the real scrypt', async () => {
    const queue = new ScryptQueue();
    const hash = await queue.run('register', () => true, () => hashPassword('secret', 10));
    expect(await queue.run('login', () => true, () => verifyPassword('secret', hash))).toBe(true);
    expect(await queue.run('login', () => true, () => verifyPassword('guess', hash))).toBe(false);
  });
});
