/**
 * The history checker's short runs: one host as a process, then three cluster nodes on
 * PostgreSQL and NATS, the app's own clients sending room, direct and group messages, each
 * fault of the topology once; any anomaly fails the test with its seed (`npm run checker --
 * --topology <t> --seed N` replays it). And the checks themselves, on histories made by hand,
 * so a checker that cannot fail would be seen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresMissing } from '../../store/pg/testing.js';
import { natsMissing } from '../nats.js';
import { type History, type Seen, check } from './check.js';
import { CLUSTER_FAULTS, clusterPostgres, startCluster } from './cluster.js';
import { faketimeMissing } from './host-process.js';
import { SINGLE_HOST_FAULTS, startSingleHost } from './single-host.js';
import { type FaultKind, runWorkload } from './workload.js';

/** The faults that can run here, each once, and the title that says which were left out and why. */
function faultsOf(all: readonly FaultKind[], title: string): { faults: FaultKind[]; once: Record<string, number>; title: string } {
  const faults = all.filter((fault) => fault !== 'clock-skew' || !faketimeMissing);
  return { faults, once: Object.fromEntries(faults.map((fault) => [fault, 1])), title: faketimeMissing ? `${title} (clock-skew skipped: ${faketimeMissing})` : title };
}

const m = (id: number, clientMsgId: string, conv: string): Seen => ({ id, clientMsgId, conv });
const a1 = m(1, 'a1', 'room');
const b1 = m(2, 'b1', 'group:1');
const b2 = m(3, 'b2', 'dm:1:2');

/** Ann and Bob in group 1 and their direct conversation, Cy in the room only: everyone saw what they should. */
function clean(): History {
  return {
    seed: 7,
    acked: new Map([
      ['a1', { user: 'ann', id: 1, conv: 'room' }],
      ['b1', { user: 'bob', id: 2, conv: 'group:1' }],
      ['b2', { user: 'bob', id: 3, conv: 'dm:1:2' }],
    ]),
    readers: new Map([
      ['room', new Set(['ann', 'bob', 'cy'])],
      ['group:1', new Set(['ann', 'bob'])],
      ['dm:1:2', new Set(['ann', 'bob'])],
    ]),
    pushes: new Map([['ann', [b1, b2]], ['bob', [a1]], ['cy', [a1]]]),
    shown: new Map([['ann', [a1, b1, b2]], ['bob', [a1, b1, b2]], ['cy', [a1]]]),
    views: new Map([
      ['ann', new Map([['room', [a1]], ['group:1', [b1]], ['dm:1:2', [b2]]])],
      ['bob', new Map([['room', [a1]], ['group:1', [b1]], ['dm:1:2', [b2]]])],
      ['cy', new Map([['room', [a1]]])],
    ]),
    stored: new Map([['a1', [1]], ['b1', [2]], ['b2', [3]]]),
  };
}

describe('the checks', () => {
  it('find nothing in a history where everyone saw what they should', () => {
    expect(check(clean())).toEqual([]);
  });

  it('report a lost acknowledged message, a missing own message, duplicates, a stranger reading and pushes out of id order', () => {
    const history = clean();
    history.stored.set('b2', [3, 4]);
    history.pushes.set('ann', [b2, b1]);
    history.shown.set('bob', [a1, b1, b2, b2]);
    history.shown.set('cy', [b1]);
    history.views.get('bob')!.set('dm:1:2', []);
    const anomalies = check(history);
    expect(anomalies.map((a) => a.kind).sort()).toEqual(['lost-ack', 'own-message-missing', 'push-order', 'shown-twice', 'stored-twice', 'stranger-push']);
    expect(anomalies.every((a) => a.seed === 7)).toBe(true);
  });

  it('report an acknowledgement the database disagrees with, and readers ordering a conversation differently', () => {
    const history = clean();
    history.stored.set('a1', [9]);
    const a2 = m(4, 'a2', 'room');
    history.acked.set('a2', { user: 'ann', id: 4, conv: 'room' });
    history.stored.set('a2', [4]);
    for (const user of ['ann', 'bob', 'cy']) history.shown.get(user)!.push(a2);
    history.views.get('ann')!.set('room', [a1, a2]);
    history.views.get('bob')!.set('room', [a2, a1]);
    history.views.get('cy')!.set('room', [a1, a2]);
    expect(check(history).map((a) => a.kind).sort()).toEqual(['ack-mismatch', 'view-order', 'view-order']);
  });
});

describe('a short run on one host', () => {
  const { faults, once, title } = faultsOf(SINGLE_HOST_FAULTS, `finds no anomaly with each fault once (${SINGLE_HOST_FAULTS.join(', ')})`);
  it(title, async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const result = await runWorkload(await startSingleHost(4), { seed, users: 4, operations: 300, faults });
    expect(result.faults).toEqual(once);
    expect(result.anomalies, `seed ${seed}`).toEqual([]);
  }, 120_000);
});

const missing = postgresMissing ?? natsMissing;
const TITLE = 'a short run on three cluster nodes on PostgreSQL and NATS';

describe.skipIf(missing)(missing ? `${TITLE} (skipped: ${missing})` : TITLE, () => {
  let postgres: Awaited<ReturnType<typeof clusterPostgres>>;
  beforeAll(async () => {
    postgres = await clusterPostgres();
  });
  afterAll(() => postgres?.stop());

  const { faults, once, title } = faultsOf(CLUSTER_FAULTS, `finds no anomaly with each fault once (${CLUSTER_FAULTS.join(', ')})`);
  it(title, async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const result = await runWorkload(await startCluster(3, postgres.databases), { seed, users: 3, operations: 150, faults });
    expect(result.faults).toEqual(once);
    expect(result.anomalies, `seed ${seed}`).toEqual([]);
  }, 120_000);
});
