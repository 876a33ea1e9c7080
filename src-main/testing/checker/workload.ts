/**
 * One run of the checker on a topology (one host, or three cluster nodes): the app's own
 * clients (ChatClient, with its outbox) run a seeded workload of room, direct and group
 * messages, edits, deletes, reactions, read marks, group changes and moves to another address
 * with the session token; the topology's faults come at points of the workload drawn from the
 * seed; then the recorded history, every user's final view and the database's rows are checked.
 * The group changes are in groups.ts, the reading of the views in views.ts.
 */
import type { Target } from '../../../src-shared/protocol/objects.js';
import type { ServerAddress } from '../../client/addresses.js';
import { ChatClient } from '../../client/client.js';
import { ClientError, FATAL_CODES } from '../../client/errors.js';
import type { OutboxItem } from '../../client/outbox.js';
import { waitFor } from '../harness.js';
import { seededRandom } from '../prng.js';
import { type Anomaly, type Change, type History, type Seen, UNCERTAIN, check, mustShowIn } from './check.js';
import { GroupChanges } from './groups.js';
import { readFinalViews, seen } from './views.js';

export type FaultKind = 'kill' | 'link-cut' | 'clock-skew' | 'nats-restart' | 'pg-pause' | 'pg-restart';

/** What a run needs of where the clients connect. */
export interface Topology {
  /** The mean pause between two operations: the workload goes on while a fault lasts. */
  readonly paceMs: number;
  /** Where user i's client connects, and the addresses it moves to when that one is down. */
  addresses(user: number): { primary: ServerAddress; alternates: ServerAddress[] };
  /**
   * Puts the fault in place and resolves; `over` resolves once it has passed (the node or server
   * back, the database resumed) while the workload goes on. `random` is drawn from synchronously.
   */
  inject(kind: FaultKind, random: () => number): Promise<{ over: Promise<void> }>;
  /** The database's rows whose clientMsgId starts with `prefix`. */
  storedMessages(prefix: string): Promise<{ clientMsgId: string; id: number }[]>;
  close(): Promise<void>;
}

export interface RunOptions {
  seed: number;
  users: number;
  operations: number;
  faults: readonly FaultKind[];
  /** The mean pause between two operations, instead of the topology's: a heavier load. */
  paceMs?: number;
}

export interface RunResult {
  seed: number;
  operations: number;
  /** Sends the host acknowledged, by conversation kind; changes, group changes and moves, by kind. */
  acknowledged: Record<string, number>;
  faults: Record<string, number>;
  /** The workload's seconds, from the first operation to the last (the settling after it not counted). */
  seconds: number;
  anomalies: Anomaly[];
}

/** How long the sends may take to be answered once the workload is over, and the apps to show everything. */
const SETTLE_MS = 45_000;
/**
 * How far the workload may fall behind its pace before the lag is forgiven: past it, a stall of the
 * generator (not of the host: sends are not awaited) would come back as one burst of operations.
 */
const CATCH_UP_MS = 1000;
/** The reactions the workload toggles. */
const EMOJI = ['👍', '🎉', '😂'];

export function userNames(users: number): string[] {
  return [...Array(users).keys()].map((i) => `user${i}`);
}

/** One user of the workload: their current app client (a move replaces it) and their changes, one at a time. */
interface User {
  name: string;
  index: number;
  client: ChatClient;
  /** Clients the user had before this one. */
  moves: number;
  moving: boolean;
  changing: boolean;
  changes: number;
  /** The ids of the messages the user's clients showed. */
  shown: Set<number>;
  /** The messages the app holds, with their senders: what the user may act on. */
  holds: { id: number; conv: string; from: string }[];
}

export async function runWorkload(topology: Topology, options: RunOptions): Promise<RunResult> {
  const { seed } = options;
  const random = seededRandom(seed);
  const prefix = `s${seed}-`;
  const names = userNames(options.users);
  const users: User[] = [];
  const faults: Record<string, number> = {};
  const counted: Record<string, number> = {};
  const count = (kind: string): void => void (counted[kind] = (counted[kind] ?? 0) + 1);
  const extra: Anomaly[] = [];
  const history: History = {
    seed,
    acked: new Map(),
    sent: new Map(),
    readers: new Map([['room', new Set(names)]]),
    groups: new Map(),
    pushes: new Map(),
    shown: new Map(names.map((name) => [name, []])),
    app: new Map(names.map((name) => [name, new Map()])),
    appReads: new Map(names.map((name) => [name, new Map()])),
    views: new Map(),
    readState: new Map(),
    stored: new Map(),
    changes: [],
    refusals: [],
    removals: [],
  };
  const over: Promise<void>[] = [];
  const tasks = new Set<Promise<void>>();
  const pending = new Set<string>();
  const run = (task: Promise<void>): void => {
    tasks.add(task);
    void task.finally(() => tasks.delete(task));
  };

  /**
   * Records what a client of the user shows. A message an earlier client of the user showed may come
   * again from this one (its own, resent from the outbox it was handed; one from the log after the
   * event cursor it was given): the app holds it already, placed by id.
   */
  const follow = (user: User, client: ChatClient): void => {
    const { name } = user;
    const pushes: Seen[] = [];
    history.pushes.set(`${name}#${user.moves}`, pushes);
    const shown = history.shown.get(name)!;
    const app = history.app.get(name)!;
    const emitted = new Set<number>();
    client.on('message', (m) => {
      if (!m.clientMsgId.startsWith(prefix) || (user.shown.has(m.id) && !emitted.has(m.id))) return;
      emitted.add(m.id);
      user.shown.add(m.id);
      shown.push(seen(m));
      if (!app.has(m.id)) app.set(m.id, seen(m));
      user.holds.push({ id: m.id, conv: m.conv, from: m.from });
      // Others' messages keep id order; one's own may come below them (a resend answered with its earlier id).
      if (m.from !== name) pushes.push(seen(m));
    });
    client.on('event', (event) => {
      if (event.kind === 'read') {
        if (event.user === name) history.appReads.get(name)!.set(event.conv, event.upTo);
      } else if (event.message.clientMsgId.startsWith(prefix)) {
        app.set(event.message.id, seen(event.message));
      }
    });
    // The app gave up on its host: what its outbox held is never resent.
    client.on('fatal', (error) => extra.push({ kind: 'client-gave-up', seed, detail: { user: name, code: error.code, message: error.message } }));
    client.on('sendFailed', ({ clientMsgId, error }) => {
      pending.delete(clientMsgId);
      const conv = history.sent.get(clientMsgId)?.conv ?? 'dm';
      history.refusals.push({ user: name, clientMsgId, conv, code: error.code, at: Date.now() });
    });
    client.on('sent', ({ clientMsgId, message }) => {
      if (!clientMsgId.startsWith(prefix)) return;
      pending.delete(clientMsgId);
      history.acked.set(clientMsgId, { user: name, id: message.id, conv: message.conv });
    });
  };

  const newClient = (user: User, more: { token: string; lastEventId: number; unsent: OutboxItem[] } | null): ChatClient => {
    const { primary, alternates } = topology.addresses(user.index + user.moves);
    const login = more ? { token: more.token, lastEventId: more.lastEventId, ...(more.unsent.length > 0 ? { unsent: more.unsent } : {}) } : { password: `${user.name}-secret` };
    // In the order given (random: 0), so a seed places every user on the same node again.
    return new ChatClient({ ...primary, alternates, random: () => 0, name: user.name, ...login, backoffMinMs: 50, backoffMaxMs: 300 });
  };

  /**
   * Closes the user's client and logs in again with its session token on the next address (another
   * node of a cluster), as the app does at its next start (core/link.ts): the new client gets the
   * event cursor and every message the old one had not seen stored or refused.
   */
  const move = async (user: User): Promise<void> => {
    user.moving = true;
    let old = user.client;
    const token = old.sessionToken!;
    const unsent = old.unsent;
    old.close();
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      user.moves++;
      const client = newClient(user, { token, lastEventId: old.lastEventId, unsent });
      follow(user, client);
      try {
        await client.connect();
        user.client = client;
        count('move');
        break;
      } catch (error) {
        if (Date.now() > deadline || (error instanceof ClientError && FATAL_CODES.has(error.code))) {
          extra.push({ kind: 'client-gave-up', seed, detail: { user: user.name, moving: true, code: error instanceof ClientError ? error.code : String(error) } });
          user.client = client;
          break;
        }
        old = client;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    user.moving = false;
  };

  /** One edit, delete, reaction or read mark of the user, recorded with its answer. */
  const change = async (user: User, asked: Omit<Change, 'user' | 'outcome' | 'seq' | 'at'>): Promise<void> => {
    user.changing = true;
    const record: Change = { ...asked, user: user.name, outcome: 'unknown', seq: user.changes++, at: 0 };
    const { client } = user;
    try {
      const messageId = asked.messageId!;
      if (asked.kind === 'edit') await client.request('edit', { messageId, text: asked.text! });
      else if (asked.kind === 'delete') await client.request('delete', { messageId });
      else if (asked.kind === 'react') await client.request('react', { messageId, emoji: asked.emoji!, on: asked.on! });
      else record.answeredUpTo = (await client.request('read', { conv: asked.conv, upTo: asked.upTo! })).upTo;
      record.outcome = 'ok';
      count(asked.kind);
    } catch (error) {
      record.code = error instanceof ClientError ? error.code : String(error);
      if (!UNCERTAIN.has(record.code)) record.outcome = 'refused';
    } finally {
      record.at = Date.now();
      history.changes.push(record);
      user.changing = false;
    }
  };

  const online = (user: User): boolean => !user.moving && user.client.state === 'online';
  const byName = (name: string): User => users[names.indexOf(name)]!;
  const groupChanges = new GroupChanges({ seed, names, history, byName, online: (name) => online(byName(name)), count });
  const groups = groupChanges.groups;

  try {
    for (const [index, name] of names.entries()) {
      const user: User = { name, index, client: null as unknown as ChatClient, moves: 0, moving: false, changing: false, changes: 0, shown: new Set(), holds: [] };
      user.client = newClient(user, null);
      follow(user, user.client);
      users.push(user);
      await user.client.connect();
    }

    // A group of the first user and about half the others, who accept; the rest join and leave it during the run.
    await groupChanges.createFirst(users[0]!, names.slice(1, 1 + Math.max(1, options.users >> 1)));

    // Each fault once, in an order and at points drawn from the seed: the middle half of the
    // workload cut in as many slices as faults, one in each. A fault may outlast its slice (a 4 s
    // PostgreSQL pause is 160 operations in a cluster), so the next can fall within it.
    const order = [...options.faults];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const schedule = new Map(order.map((kind, i) => [Math.floor(options.operations * (0.25 + (i + random()) / (2 * order.length))), kind]));
    const dmTo = new Map<string, string>();
    const began = performance.now();
    // Each operation is due at a time on a schedule, not a pause after the last one: the work of an
    // operation does not slow the pace asked for.
    let due = began;
    for (let op = 0; op < options.operations; op++) {
      const kind = schedule.get(op);
      if (kind) {
        over.push((await topology.inject(kind, random)).over);
        faults[kind] = (faults[kind] ?? 0) + 1;
      }
      // Every draw is made here, in the same order whatever the timing, so a seed replays the workload.
      const u = Math.floor(random() * users.length);
      const user = users[u]!;
      const [pick, what, which, other] = [random(), random(), random(), random()];
      const pause = random() * 2 * (options.paceMs ?? topology.paceMs);
      const app = history.app.get(user.name)!;
      // Edits and deletes of the user's own messages; reactions and read marks on any they read. Looked for only
      // when a change is drawn: filtering every message the app holds at every operation kept the generator
      // from the operator's pace.
      const target = (): { conv: string; id: number } | undefined => {
        const readable = user.holds.filter((m) => !m.conv.startsWith('group:') || groups.some((g) => g.conv === m.conv && groupChanges.member(user, g)));
        const own = readable.filter((m) => m.from === user.name && !app.get(m.id)?.deleted);
        return what < 0.3 ? own[Math.floor(which * own.length)] : readable[Math.floor(which * readable.length)];
      };
      let chosen: { conv: string; id: number } | undefined;
      if (!online(user)) {
        // Moving, or reconnecting after a fault: the user waits.
      } else if (pick < 0.02) {
        run(move(user));
      } else if (pick < 0.06 && !groupChanges.changing) {
        const second = groups[1];
        const late = op >= options.operations * 0.7;
        const groupKind = !second && op >= options.operations * 0.3 ? 'create' : second && !second.deleted && late ? 'delete' : what < 0.5 ? 'add' : what < 0.8 ? 'remove' : 'leave';
        run(groupChanges.change(groupKind, other, user));
      } else if (pick < 0.3 && !user.changing && (chosen = target())) {
        const { conv, id: messageId } = chosen;
        if (what < 0.2) {
          run(change(user, { kind: 'edit', conv, messageId, text: `edit ${op}` }));
        } else if (what < 0.3) {
          run(change(user, { kind: 'delete', conv, messageId }));
        } else if (what < 0.75) {
          const emoji = EMOJI[Math.floor(other * EMOJI.length)]!;
          const on = !(app.get(messageId)?.reactions ?? []).includes(`${user.name} ${emoji}`);
          run(change(user, { kind: 'react', conv, messageId, emoji, on }));
        } else {
          run(change(user, { kind: 'read', conv, upTo: messageId }));
        }
      } else {
        const clientMsgId = `${prefix}u${u}-op${op}`;
        const text = `op ${op}`;
        const mine = groups.filter((g) => groupChanges.member(user, g));
        let to: Target = { kind: 'room' };
        if (what < 0.3) {
          const peer = (u + 1 + Math.floor(other * (names.length - 1))) % names.length;
          to = { kind: 'dm', user: names[peer]! };
          dmTo.set(clientMsgId, names[peer]!);
        } else if (what < 0.6 && mine.length > 0) {
          to = { kind: 'group', groupId: mine[Math.floor(other * mine.length)]!.id };
        }
        history.sent.set(clientMsgId, { user: user.name, text, ...(to.kind === 'group' ? { conv: `group:${to.groupId}` } : to.kind === 'room' ? { conv: 'room' } : {}) });
        pending.add(clientMsgId);
        // The outcome comes as the client's events ('sent', 'sendFailed'); the promise rejects also when a move closes the client.
        user.client.send(to, text, clientMsgId).catch(() => undefined);
      }
      due = Math.max(due + pause, performance.now() - CATCH_UP_MS);
      await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    }
    const seconds = (performance.now() - began) / 1000;
    await Promise.all(over);
    await Promise.all(tasks);
    await waitFor(() => pending.size === 0, SETTLE_MS).catch(() => undefined);
    if (pending.size > 0) extra.push({ kind: 'send-unanswered', seed, detail: { clientMsgIds: [...pending] } });

    // Direct conversations are known by the messages stored in them; their readers are the two people.
    for (const [clientMsgId, { user, conv }] of history.acked) {
      if (conv.startsWith('dm:')) history.readers.set(conv, new Set([user, dmTo.get(clientMsgId)!]));
    }

    const clients = users.map((user) => user.client);
    const live = clients.filter((c) => c.state !== 'closed');
    await waitFor(() => live.every((c) => c.state === 'online'), SETTLE_MS, `every client online (${clients.map((c) => c.state).join()})`);
    await groupChanges.readMemberships();
    // The apps show what was stored: pushed, or read back after a fault; a message still missing after the wait is an anomaly.
    const shownAll = (i: number): boolean => {
      const shown = new Set(history.shown.get(names[i]!)!.map((m) => m.clientMsgId));
      return [...history.acked].every(([clientMsgId, { conv, id }]) => !mustShowIn(history, names[i]!, conv, id) || shown.has(clientMsgId));
    };
    await waitFor(() => clients.every((c, i) => c.state === 'closed' || shownAll(i)), SETTLE_MS).catch(() => undefined);
    for (const row of await topology.storedMessages(prefix)) history.stored.set(row.clientMsgId, [...(history.stored.get(row.clientMsgId) ?? []), row.id]);
    await readFinalViews(history, names, clients, prefix);
    for (const { conv } of history.acked.values()) count(conv.split(':')[0]!);
    return { seed, operations: options.operations, acknowledged: counted, faults, seconds, anomalies: [...extra, ...check(history)] };
  } finally {
    for (const user of users) user.client.close();
    await Promise.allSettled(over);
    await Promise.allSettled(tasks);
    await topology.close();
  }
}
