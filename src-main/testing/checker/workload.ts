/**
 * One run of the checker on a topology (one host, or three cluster nodes): the app's own
 * clients (ChatClient, with its outbox, in processes of their own: remote-client.ts) run a
 * seeded workload of room, direct and group messages, edits, deletes, reactions, read marks,
 * group changes and moves to another address with the session token; the topology's faults come at points of the workload drawn from the
 * seed; then the recorded history, every user's final view and the database's rows are checked.
 * The group changes are in groups.ts, the reading of the views in views.ts.
 */
import { loadavg } from 'node:os';
import type { Target } from '../../../src-shared/protocol/objects.js';
import type { ServerAddress } from '../../client/addresses.js';
import { ClientError, FATAL_CODES } from '../../client/errors.js';
import { waitFor } from '../harness.js';
import { seededRandom } from '../prng.js';
import { type Anomaly, type Change, type History, type Seen, UNCERTAIN, check, mustShowIn } from './check.js';
import { GroupChanges } from './groups.js';
import { AnsweredError, ClientProcesses, type Kept, type RemoteClient } from './remote-client.js';
import { type Usage, measureUsage } from './usage.js';
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
  /** The host processes' ids, now (a restart changes one). */
  pids(): (number | undefined)[];
  /** The database's rows whose clientMsgId starts with `prefix`. */
  storedMessages(prefix: string): Promise<{ clientMsgId: string; id: number }[]>;
  /** The hosts' server.log lines, every host's (the lines of a node restarted included). */
  logLines(): string[];
  close(): Promise<void>;
}

export interface RunOptions {
  seed: number;
  users: number;
  operations: number;
  faults: readonly FaultKind[];
  /** The mean pause between two operations, instead of the topology's: a heavier load. */
  paceMs?: number;
  /** How many processes run the users' clients (default 1). */
  clientProcesses?: number;
}

export interface RunResult {
  seed: number;
  operations: number;
  /** Sends the host acknowledged, by conversation kind; changes, group changes and moves, by kind. */
  acknowledged: Record<string, number>;
  faults: Record<string, number>;
  /** The workload's seconds, from the first operation to the last (the settling after it not counted). */
  seconds: number;
  /** Sends the workload made (acknowledged or not). */
  offered: number;
  /**
   * Before the first fault (the whole workload without faults): its seconds, the sends made in them and the
   * acknowledgements that came in them, so whether the hosts kept up with the load as it was offered.
   */
  steady: { seconds: number; offered: number; acknowledged: number };
  /** The machine's 1-minute load average as the workload began and as it ended. */
  load: [number, number];
  /** Where the CPU went over the workload, where /proc tells. */
  usage: Usage | undefined;
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

/**
 * Each fault once, in an order and at points drawn from `random`: the middle half of the workload cut in as
 * many slices as faults, one in each; a point drawn on one already taken (the end of a slice and the start of
 * the next) moves to the next free operation. A fault may outlast its slice (a 4 s PostgreSQL pause is 160
 * operations in a cluster), so the next can fall within it.
 */
export function faultSchedule(faults: readonly FaultKind[], operations: number, random: () => number): Map<number, FaultKind> {
  const order = [...faults];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const schedule = new Map<number, FaultKind>();
  order.forEach((kind, i) => {
    let at = Math.floor(operations * (0.25 + (i + random()) / (2 * order.length)));
    while (schedule.has(at)) at++;
    schedule.set(at, kind);
  });
  return schedule;
}

/** One user of the workload: their current app client (a move replaces it) and their changes, one at a time. */
interface User {
  name: string;
  index: number;
  client: RemoteClient;
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
  /** Until the first fault, or the workload's end: what came meanwhile counts toward `steady`. */
  const steady = { from: 0, until: Infinity, offered: 0, acknowledged: 0 };
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
  const follow = (user: User, client: RemoteClient): void => {
    const { name } = user;
    const pushes: Seen[] = [];
    history.pushes.set(`${name}#${user.moves}`, pushes);
    const shown = history.shown.get(name)!;
    const app = history.app.get(name)!;
    const emitted = new Set<number>();
    client.follower = {
      message: (m) => {
        if (!m.clientMsgId.startsWith(prefix) || (user.shown.has(m.id) && !emitted.has(m.id))) return;
        emitted.add(m.id);
        user.shown.add(m.id);
        shown.push(seen(m));
        if (!app.has(m.id)) app.set(m.id, seen(m));
        user.holds.push({ id: m.id, conv: m.conv, from: m.from });
        // Others' messages keep id order; one's own may come below them (a resend answered with its earlier id).
        if (m.from !== name) pushes.push(seen(m));
      },
      event: (event) => {
        if (event.kind === 'read') {
          if (event.user === name) history.appReads.get(name)!.set(event.conv, event.upTo);
        } else if (event.message.clientMsgId.startsWith(prefix)) {
          app.set(event.message.id, seen(event.message));
        }
      },
      // The app gave up on its host: what its outbox held is never resent.
      fatal: (error) => extra.push({ kind: 'client-gave-up', seed, detail: { user: name, code: error.code, message: error.message } }),
      sendFailed: ({ clientMsgId, code, at }) => {
        pending.delete(clientMsgId);
        const conv = history.sent.get(clientMsgId)?.conv ?? 'dm';
        history.refusals.push({ user: name, clientMsgId, conv, code, at });
      },
      sent: ({ clientMsgId, message }) => {
        if (!clientMsgId.startsWith(prefix)) return;
        pending.delete(clientMsgId);
        if (performance.now() < steady.until) steady.acknowledged++;
        history.acked.set(clientMsgId, { user: name, id: message.id, conv: message.conv });
      },
    };
  };

  const newClient = (user: User, kept: Kept | null): RemoteClient => {
    const { primary, alternates } = topology.addresses(user.index + user.moves);
    const login = kept ? { token: kept.token!, lastEventId: kept.lastEventId, ...(kept.unsent.length > 0 ? { unsent: kept.unsent } : {}) } : { password: `${user.name}-secret` };
    return clients.client(user.index, { ...primary, alternates, name: user.name, ...login, backoffMinMs: 50, backoffMaxMs: 300 });
  };

  /**
   * Closes the user's client and logs in again with its session token on the next address (another
   * node of a cluster), as the app does at its next start (core/link.ts): the new client gets the
   * event cursor and every message the old one had not seen stored or refused.
   */
  const move = async (user: User): Promise<void> => {
    user.moving = true;
    const kept = await user.client.close();
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      user.moves++;
      const client = newClient(user, kept);
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
        // The next client takes up from this one's event cursor, with the first one's session and unsent messages.
        kept.lastEventId = (await client.close()).lastEventId;
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
      record.at = Date.now();
      history.changes.push(record);
    } catch (error) {
      // Offline by the time it reached the client: never asked, as when the user waits.
      if (error instanceof AnsweredError && error.notSent) return;
      record.code = error instanceof ClientError ? error.code : String(error);
      if (!UNCERTAIN.has(record.code)) record.outcome = 'refused';
      // When the client had the refusal, not when it reached this process.
      record.at = error instanceof AnsweredError ? error.at : Date.now();
      history.changes.push(record);
    } finally {
      user.changing = false;
    }
  };

  const online = (user: User): boolean => !user.moving && user.client.state === 'online';
  const byName = (name: string): User => users[names.indexOf(name)]!;
  // An owner whose app gave up (reported as client-gave-up) logs in anew to read the membership lines.
  const readerOf = async (name: string): Promise<RemoteClient> => {
    const user = byName(name);
    if (user.client.state !== 'closed') return user.client;
    user.moves++;
    const client = newClient(user, null);
    await client.connect();
    return client;
  };
  const groupChanges = new GroupChanges({ seed, names, history, byName, online: (name) => online(byName(name)), count, readerOf });
  const groups = groupChanges.groups;

  const clients = await ClientProcesses.start(options.clientProcesses ?? 1).catch(async (error: unknown) => {
    await topology.close();
    throw error;
  });
  try {
    for (const [index, name] of names.entries()) {
      const user: User = { name, index, client: null as unknown as RemoteClient, moves: 0, moving: false, changing: false, changes: 0, shown: new Set(), holds: [] };
      user.client = newClient(user, null);
      follow(user, user.client);
      users.push(user);
      await user.client.connect();
    }

    // A group of the first user and about half the others, who accept; the rest join and leave it during the run.
    await groupChanges.createFirst(users[0]!, names.slice(1, 1 + Math.max(1, options.users >> 1)));

    const schedule = faultSchedule(options.faults, options.operations, random);
    const dmTo = new Map<string, string>();
    const load: [number, number] = [loadavg()[0]!, 0];
    const usage = measureUsage([
      { name: 'checker', pid: process.pid },
      ...clients.children.map((child, i) => ({ name: `clients${i}`, pid: child.pid })),
      ...topology.pids().map((pid, i) => ({ name: `host${i}`, pid })),
    ]);
    const began = performance.now();
    steady.from = began;
    // Each operation is due at a time on a schedule, not a pause after the last one: the work of an
    // operation does not slow the pace asked for.
    let due = began;
    for (let op = 0; op < options.operations; op++) {
      const kind = schedule.get(op);
      if (kind) {
        steady.until = Math.min(steady.until, performance.now());
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
        if (steady.until === Infinity) steady.offered++;
        // The outcome comes as the client's 'sent' or 'sendFailed'.
        user.client.send(to, text, clientMsgId);
      }
      due = Math.max(due + pause, performance.now() - CATCH_UP_MS);
      // One already due goes after what came meanwhile, without a timer: a timer puts the process to sleep
      // for at least a millisecond, and on a loaded machine the wait for a core after each kept the
      // generator below the pace while its event loop was mostly idle.
      const wait = due - performance.now();
      await new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
    }
    const seconds = (performance.now() - began) / 1000;
    steady.until = Math.min(steady.until, performance.now());
    load[1] = loadavg()[0]!;
    const used = usage.end();
    await Promise.all(over);
    await Promise.all(tasks);
    await waitFor(() => pending.size === 0, SETTLE_MS).catch(() => undefined);
    const unanswered = [...pending];

    // Direct conversations are known by the messages stored in them; their readers are the two people.
    for (const [clientMsgId, { user, conv }] of history.acked) {
      if (conv.startsWith('dm:')) history.readers.set(conv, new Set([user, dmTo.get(clientMsgId)!]));
    }

    if (clients.failure) throw clients.failure;
    const current = users.map((user) => user.client);
    const live = current.filter((c) => c.state !== 'closed');
    await waitFor(() => live.every((c) => c.state === 'online'), SETTLE_MS, () => `every client online (${current.map((c) => c.state).join()})`);
    await groupChanges.readMemberships();
    // The apps show what was stored: pushed, or read back after a fault; a message still missing after the wait is an anomaly.
    const shownAll = (i: number): boolean => {
      const shown = new Set(history.shown.get(names[i]!)!.map((m) => m.clientMsgId));
      return [...history.acked].every(([clientMsgId, { conv, id }]) => !mustShowIn(history, names[i]!, conv, id) || shown.has(clientMsgId));
    };
    await waitFor(() => current.every((c, i) => c.state === 'closed' || shownAll(i)), SETTLE_MS).catch(() => undefined);
    for (const row of await topology.storedMessages(prefix)) history.stored.set(row.clientMsgId, [...(history.stored.get(row.clientMsgId) ?? []), row.id]);
    if (unanswered.length > 0) {
      // Whether the host stored them, and whether each sender's link still answers a request.
      const senders = new Set(unanswered.map((clientMsgId) => history.sent.get(clientMsgId)!.user));
      const links = await Promise.all(
        [...senders].map(async (name) => {
          const { client } = byName(name);
          const answers = await client.request('readState').then(
            () => 'answers',
            (error: unknown) => (error instanceof ClientError ? error.code : String(error)),
          );
          return { user: name, state: client.state, answers };
        }),
      );
      const stored = unanswered.filter((clientMsgId) => history.stored.has(clientMsgId)).length;
      extra.push({ kind: 'send-unanswered', seed, detail: { clientMsgIds: unanswered, stored, links } });
    }
    // A request the host held past twice the heartbeat: its client left the session (PROTOCOL §12), which hid it.
    const hung = topology.logLines().filter((line) => line.includes('"event":"request unanswered"'));
    if (hung.length > 0) extra.push({ kind: 'request-unanswered', seed, detail: { lines: hung } });
    await readFinalViews(history, names, current, prefix);
    if (clients.failure) throw clients.failure;
    for (const { conv } of history.acked.values()) count(conv.split(':')[0]!);
    const before = { seconds: (steady.until - steady.from) / 1000, offered: steady.offered, acknowledged: steady.acknowledged };
    return { seed, operations: options.operations, acknowledged: counted, faults, seconds, offered: history.sent.size, steady: before, load, usage: used, anomalies: [...extra, ...check(history)] };
  } finally {
    await clients.stop();
    await Promise.allSettled(over);
    await Promise.allSettled(tasks);
    await topology.close();
  }
}
