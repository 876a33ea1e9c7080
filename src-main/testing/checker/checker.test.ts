/**
 * The history checker's short runs: one host as a process, then three cluster nodes on
 * PostgreSQL and NATS, the app's own clients sending room, direct and group messages, changing
 * them, changing the groups and moving to another address, each fault of the topology once; any anomaly fails the test with its seed (`npm run checker --
 * --topology <t> --seed N` replays it). And the checks themselves, on histories made by hand,
 * so a checker that cannot fail would be seen.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresMissing } from '../../store/pg/testing.js';
import { natsMissing } from '../nats.js';
import { freePort } from '../ports.js';
import { type History, type Seen, check } from './check.js';
import { CLUSTER_FAULTS, clusterPostgres, startCluster } from './cluster.js';
import { faketimeMissing } from './host-process.js';
import { AnsweredError, ClientProcesses } from './remote-client.js';
import { SINGLE_HOST_FAULTS, startSingleHost } from './single-host.js';
import { type FaultKind, faultSchedule, runWorkload } from './workload.js';

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
    sent: new Map([
      ['a1', { user: 'ann', conv: 'room', text: 'a1' }],
      ['b1', { user: 'bob', conv: 'group:1', text: 'b1' }],
      ['b2', { user: 'bob', text: 'b2' }],
    ]),
    readers: new Map([
      ['room', new Set(['ann', 'bob', 'cy'])],
      ['dm:1:2', new Set(['ann', 'bob'])],
    ]),
    groups: new Map([['group:1', { members: new Map([['ann', [{ from: 0, to: null }]], ['bob', [{ from: 0, to: null }]]]), deleted: false }]]),
    pushes: new Map([['ann', [b1, b2]], ['bob', [a1]], ['cy', [a1]]]),
    shown: new Map([['ann', [a1, b1, b2]], ['bob', [a1, b1, b2]], ['cy', [a1]]]),
    views: new Map([
      ['ann', new Map([['room', [a1]], ['group:1', [b1]], ['dm:1:2', [b2]]])],
      ['bob', new Map([['room', [a1]], ['group:1', [b1]], ['dm:1:2', [b2]]])],
      ['cy', new Map([['room', [a1]]])],
    ]),
    stored: new Map([['a1', [1]], ['b1', [2]], ['b2', [3]]]),
    app: new Map(),
    appReads: new Map(),
    readState: new Map(),
    changes: [],
    refusals: [],
    removals: [],
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

/** Ann, Bob and Cy after changes: ann's edit and bob's reaction of a1 stored, cy's reaction unanswered and not stored, b2 deleted by bob (ann's reaction then refused), ann's read mark of the room at a1. */
function changed(): History {
  const history = clean();
  const a1Now = { ...a1, text: 'a1 edited', reactions: ['bob 👍'] };
  const b2Now = { ...b2, deleted: true };
  for (const user of ['ann', 'bob', 'cy']) history.views.get(user)!.set('room', [a1Now]);
  for (const user of ['ann', 'bob']) history.views.get(user)!.set('dm:1:2', [b2Now]);
  history.changes = [
    { user: 'ann', kind: 'edit', conv: 'room', messageId: 1, text: 'a1 edited', outcome: 'ok', seq: 0, at: 1 },
    { user: 'bob', kind: 'react', conv: 'room', messageId: 1, emoji: '👍', on: true, outcome: 'ok', seq: 0, at: 1 },
    { user: 'cy', kind: 'react', conv: 'room', messageId: 1, emoji: '🎉', on: true, outcome: 'unknown', code: 'DISCONNECTED', seq: 0, at: 1 },
    { user: 'bob', kind: 'delete', conv: 'dm:1:2', messageId: 3, outcome: 'ok', seq: 1, at: 2 },
    { user: 'ann', kind: 'react', conv: 'dm:1:2', messageId: 3, emoji: '👍', on: true, outcome: 'refused', code: 'MESSAGE_DELETED', seq: 1, at: 3 },
    { user: 'ann', kind: 'read', conv: 'room', upTo: 1, answeredUpTo: 1, outcome: 'ok', seq: 2, at: 4 },
  ];
  history.app.set('ann', new Map([[1, a1Now], [2, b1], [3, b2Now]]));
  history.appReads.set('ann', new Map([['room', 1]]));
  history.readState.set('ann', new Map([['room', 1], ['dm:1:2', 0], ['group:1', 0]]));
  return history;
}

const kinds = (history: History): string[] => check(history).map((a) => a.kind).sort();

describe('the checks of group changes', () => {
  it('report a message stored from a removed member, a message pushed to one after their removal, and a deleted group’s message still stored', () => {
    const history = clean();
    // Bob removed by the membership line 10; group 2 deleted.
    history.groups.get('group:1')!.members.set('bob', [{ from: 0, to: 10 }]);
    history.views.get('bob')!.delete('group:1');
    history.sent.set('b12', { user: 'bob', conv: 'group:1', text: 'b12' });
    history.stored.set('b12', [12]);
    history.shown.get('bob')!.push(m(13, 'a13', 'group:1'));
    history.groups.set('group:2', { members: new Map([['ann', [{ from: 14, to: null }]]]), deleted: true });
    history.sent.set('a20', { user: 'ann', conv: 'group:2', text: 'a20' });
    history.stored.set('a20', [20]);
    expect(kinds(history)).toEqual(['deleted-group-stored', 'removed-reader-push', 'removed-sender-stored']);
  });

  it('allow a member added again to send, and to get what was written while they were out (they read the whole history)', () => {
    const history = clean();
    history.groups.get('group:1')!.members.set('bob', [{ from: 0, to: 10 }, { from: 15, to: null }]);
    history.sent.set('b16', { user: 'bob', conv: 'group:1', text: 'b16' });
    history.stored.set('b16', [16]);
    history.shown.get('bob')!.push(m(12, 'a12', 'group:1'));
    expect(check(history)).toEqual([]);
  });

  it('report a group send refused before anything removed its sender, not one refused after', () => {
    const history = clean();
    history.refusals.push({ user: 'bob', clientMsgId: 'b4', conv: 'group:1', code: 'UNKNOWN_GROUP', at: 5 });
    expect(kinds(history)).toEqual(['send-refused']);
    history.removals.push({ conv: 'group:1', user: 'bob', at: 4 });
    expect(check(history)).toEqual([]);
  });
});

describe('the checks of edits, deletes, reactions and read marks', () => {
  it('find nothing when every reader and app shows what the acknowledged changes say', () => {
    expect(check(changed())).toEqual([]);
  });

  it('report readers disagreeing on a message', () => {
    const history = changed();
    history.views.get('cy')!.set('room', [{ ...a1, text: 'a1', reactions: ['bob 👍'] }]);
    expect(kinds(history)).toEqual(['change-diverged']);
  });

  it('report an acknowledged edit and reaction lost, and a deletion nobody asked for', () => {
    const history = changed();
    const lost = { ...a1, text: 'a1', reactions: [] };
    for (const user of ['ann', 'bob', 'cy']) history.views.get(user)!.set('room', [lost]);
    history.app.get('ann')!.set(1, lost);
    history.views.get('ann')!.set('group:1', [{ ...b1, deleted: true }]);
    history.views.get('bob')!.set('group:1', [{ ...b1, deleted: true }]);
    history.app.get('ann')!.set(2, { ...b1, deleted: true });
    expect(kinds(history)).toEqual(['change-lost', 'change-lost', 'change-lost']);
  });

  it('report a change refused for a reason its target does not give', () => {
    const history = changed();
    history.changes.push({ user: 'cy', kind: 'react', conv: 'room', messageId: 1, emoji: '👍', on: true, outcome: 'refused', code: 'MESSAGE_DELETED', seq: 1, at: 5 });
    history.changes.push({ user: 'ann', kind: 'react', conv: 'group:1', messageId: 2, emoji: '👍', on: true, outcome: 'refused', code: 'UNKNOWN_MESSAGE', seq: 3, at: 5 });
    expect(kinds(history)).toEqual(['change-refused', 'change-refused']);
    // Once ann was removed from the group, it does not exist for her.
    history.removals.push({ conv: 'group:1', user: 'ann', at: 4 });
    expect(kinds(history)).toEqual(['change-refused']);
  });

  it('report a read mark behind the acknowledged one', () => {
    const history = changed();
    history.readState.get('ann')!.set('room', 0);
    history.appReads.get('ann')!.set('room', 0);
    expect(kinds(history)).toEqual(['read-lost']);
  });

  it('report an app that did not apply a change or a read mark its user made', () => {
    const history = changed();
    history.app.get('ann')!.set(1, { ...a1, text: 'a1', reactions: [] });
    history.appReads.get('ann')!.delete('room');
    expect(kinds(history)).toEqual(['app-stale', 'app-stale']);
  });
});

describe('the faults of a run', () => {
  it('puts each fault at an operation of its own, even when two draws fall on the same one', () => {
    // Six faults over 150 operations: slices of 12.5 operations from operation 37.5, so the end of the second
    // (62.4) and the start of the third (62.5) fall on operation 62, which a map from operation to fault kept
    // once. Five draws shuffle the faults, then one a point in each slice.
    const draws = [0, 0, 0, 0, 0, 0.5, 0.99, 0, 0.5, 0.5, 0.5];
    const schedule = faultSchedule(['kill', 'link-cut', 'clock-skew', 'nats-restart', 'pg-pause', 'pg-restart'], 150, () => draws.shift() ?? 0.5);
    expect([...schedule.values()].sort()).toEqual(['clock-skew', 'kill', 'link-cut', 'nats-restart', 'pg-pause', 'pg-restart']);
    for (const at of schedule.keys()) expect(at >= 37 && at < 150).toBe(true);
  });
});

describe("the app clients' process", () => {
  it('answers as its client did, sends nothing its offline client was asked, and fails the run once it ends', async () => {
    const processes = await ClientProcesses.start(1);
    try {
      // Nothing listens there.
      const client = processes.client(0, { host: '127.0.0.1', port: await freePort(), name: 'ann', password: 'ann-secret' });
      const refused = await client.connect().then(() => undefined, (error: unknown) => error);
      expect(refused).toBeInstanceOf(AnsweredError);
      expect((refused as AnsweredError).code).toBe('CONNECT_FAILED');
      expect(client.state).toBe('closed');
      const offline = await client.request('readState').then(() => undefined, (error: unknown) => error);
      // Closed for good, not between links: the final reads skip it rather than ask again.
      expect(offline).toMatchObject({ code: 'CLOSED', notSent: true });

      const child = processes.children[0]!;
      child.kill('SIGKILL');
      await once(child, 'exit');
      await expect(client.request('readState')).rejects.toThrow(/a process of the checker's clients exited/);
      expect(processes.failure).toBeDefined();
    } finally {
      await processes.stop();
    }
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
