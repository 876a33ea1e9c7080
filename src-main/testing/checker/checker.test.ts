/**
 * The history checker's short run: one host as a process, the app's own clients, each
 * fault once (kill -9 and restart, a link cut mid-frame); any anomaly fails the test with
 * its seed (`npm run checker -- --seed N` replays it). And the checks themselves, on a
 * history made by hand, so a checker that cannot fail would be seen.
 */
import { describe, expect, it } from 'vitest';
import { check } from './check.js';
import { SINGLE_HOST_FAULTS, runSingleHost } from './single-host.js';

describe('the checks', () => {
  it('report a lost acknowledged message, a missing own message, a duplicate and pushes out of id order', () => {
    const anomalies = check({
      seed: 7,
      acked: new Map([
        ['a1', { user: 'ann', id: 1 }],
        ['b1', { user: 'bob', id: 2 }],
        ['b2', { user: 'bob', id: 3 }],
      ]),
      pushes: new Map([['ann', [1, 3, 2]]]),
      views: new Map([
        ['ann', [{ id: 1, clientMsgId: 'a1', from: 'ann' }, { id: 2, clientMsgId: 'b1', from: 'bob' }, { id: 3, clientMsgId: 'b2', from: 'bob' }]],
        ['bob', [{ id: 1, clientMsgId: 'a1', from: 'ann' }, { id: 3, clientMsgId: 'b2', from: 'bob' }, { id: 4, clientMsgId: 'b2', from: 'bob' }]],
      ]),
    });
    expect(anomalies.map((a) => a.kind).sort()).toEqual(['own-message-missing', 'push-order', 'stored-twice']);
    expect(anomalies.every((a) => a.seed === 7)).toBe(true);
  });
});

describe('a short run on one host', () => {
  it('finds no anomaly with each fault once', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const result = await runSingleHost({ seed, users: 4, operations: 300, faults: SINGLE_HOST_FAULTS });
    expect(result.faults).toEqual({ kill: 1, 'link-cut': 1 });
    expect(result.anomalies, `seed ${seed}`).toEqual([]);
  }, 120_000);
});
