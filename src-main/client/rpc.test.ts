import { describe, expect, it } from 'vitest';
import { readServerFrame } from './rpc.js';

describe('reading what the host sends', () => {
  it("takes an older host's deviceReady, which names no devices, as the push it is, not as a broken frame", () => {
    expect(readServerFrame({ type: 'deviceReady', user: 'bob' })).toEqual({ kind: 'push', push: { type: 'deviceReady', user: 'bob' } });
    expect(readServerFrame({ type: 'deviceReady', user: 'bob', devices: ['0a'.repeat(16)] })).toMatchObject({ kind: 'push', push: { devices: ['0a'.repeat(16)] } });
    expect(readServerFrame({ type: 'deviceReady', user: 'bob', devices: 'all' })).toMatchObject({ kind: 'invalid' });
  });
});
