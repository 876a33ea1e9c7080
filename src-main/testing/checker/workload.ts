/**
 * One run of the checker on a topology (one host, or three cluster nodes): the app's own
 * clients (ChatClient, with its outbox) send a seeded workload of room, direct and group
 * messages; the topology's faults come at points of the workload drawn from the seed; then
 * the recorded history, every user's final view and the database's rows are checked.
 */
import type { ChatMessage, Target } from '../../../src-shared/protocol/objects.js';
import { ChatClient, type ServerAddress } from '../../client/client.js';
import { waitFor } from '../harness.js';
import { seededRandom } from '../prng.js';
import { type Anomaly, type History, type Seen, check } from './check.js';

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
}

export interface RunResult {
  seed: number;
  operations: number;
  /** Sends the host acknowledged, by conversation kind. */
  acknowledged: Record<string, number>;
  faults: Record<string, number>;
  anomalies: Anomaly[];
}

/** How long the sends may take to be answered once the workload is over, and the apps to show everything. */
const SETTLE_MS = 45_000;

export function userNames(users: number): string[] {
  return [...Array(users).keys()].map((i) => `user${i}`);
}

async function conversationView(client: ChatClient, conv: string): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.request('history', { conv, before, limit: 200 });
    pages.unshift(page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0]!.id;
  }
  return pages.flat();
}

const seen = (m: ChatMessage): Seen => ({ id: m.id, clientMsgId: m.clientMsgId, conv: m.conv });

export async function runWorkload(topology: Topology, options: RunOptions): Promise<RunResult> {
  const { seed } = options;
  const random = seededRandom(seed);
  const prefix = `s${seed}-`;
  const names = userNames(options.users);
  const clients: ChatClient[] = [];
  const faults: Record<string, number> = {};
  const extra: Anomaly[] = [];
  const history: History = { seed, acked: new Map(), readers: new Map([['room', new Set(names)]]), pushes: new Map(), shown: new Map(), views: new Map(), stored: new Map() };
  const over: Promise<void>[] = [];
  try {
    for (const [i, name] of names.entries()) {
      const { primary, alternates } = topology.addresses(i);
      const client = new ChatClient({ ...primary, alternates, name, password: `${name}-secret`, backoffMinMs: 50, backoffMaxMs: 300 });
      clients.push(client);
      const pushes: Seen[] = [];
      const shown: Seen[] = [];
      history.pushes.set(name, pushes);
      history.shown.set(name, shown);
      client.on('message', (m) => {
        if (!m.clientMsgId.startsWith(prefix)) return;
        shown.push(seen(m));
        // Others' messages keep id order; one's own may come below them (a resend answered with its earlier id).
        if (m.from !== name) pushes.push(seen(m));
      });
      // The app gave up on its host: what its outbox held is never resent.
      client.on('fatal', (error) => extra.push({ kind: 'client-gave-up', seed, detail: { user: name, code: error.code, message: error.message } }));
      // Nothing the workload sends may be refused: a refusal is a message the app dropped.
      client.on('sendFailed', ({ clientMsgId, error }) => extra.push({ kind: 'send-refused', seed, detail: { user: name, clientMsgId, code: error.code, message: error.message } }));
      client.on('sent', ({ clientMsgId, message }) => {
        if (clientMsgId.startsWith(prefix)) history.acked.set(clientMsgId, { user: name, id: message.id, conv: message.conv });
      });
      await client.connect();
    }

    // A group of the first user and about half the others, who accept; the rest never read it.
    const invited = names.slice(1, 1 + Math.max(1, options.users >> 1));
    const { group } = await clients[0]!.request('groupCreate', { name: `checker ${seed}`, members: invited });
    for (const name of invited) await clients[names.indexOf(name)]!.request('groupAnswer', { groupId: group.id, accept: true });
    const members = [names[0]!, ...invited];
    history.readers.set(`group:${group.id}`, new Set(members));

    // Each fault once, in an order and at points drawn from the seed: the middle half of the
    // workload cut in as many slices as faults, one in each. A fault may outlast its slice (a 4 s
    // PostgreSQL pause is 160 operations in a cluster), so the next can fall within it.
    const order = [...options.faults];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const schedule = new Map(order.map((kind, i) => [Math.floor(options.operations * (0.25 + (i + random()) / (2 * order.length))), kind]));
    const sends = new Map<string, Promise<unknown>>();
    const dmTo = new Map<string, string>();
    for (let op = 0; op < options.operations; op++) {
      const kind = schedule.get(op);
      if (kind) {
        over.push((await topology.inject(kind, random)).over);
        faults[kind] = (faults[kind] ?? 0) + 1;
      }
      const u = Math.floor(random() * clients.length);
      const clientMsgId = `${prefix}u${u}-op${op}`;
      const pick = random();
      let to: Target = { kind: 'room' };
      if (pick < 0.3) {
        const other = (u + 1 + Math.floor(random() * (names.length - 1))) % names.length;
        to = { kind: 'dm', user: names[other]! };
        dmTo.set(clientMsgId, names[other]!);
      } else if (pick < 0.6 && members.includes(names[u]!)) {
        to = { kind: 'group', groupId: group.id };
      }
      sends.set(clientMsgId, clients[u]!.send(to, `op ${op}`, clientMsgId).then(
        () => sends.delete(clientMsgId),
        () => sends.delete(clientMsgId),
      ));
      await new Promise((resolve) => setTimeout(resolve, random() * 2 * topology.paceMs));
    }
    await Promise.all(over);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(sends.values()), new Promise((resolve) => (timer = setTimeout(resolve, SETTLE_MS)))]);
    clearTimeout(timer);
    if (sends.size > 0) extra.push({ kind: 'send-unanswered', seed, detail: { clientMsgIds: [...sends.keys()] } });

    // Direct conversations are known by the messages stored in them; their readers are the two people.
    for (const [clientMsgId, { user, conv }] of history.acked) {
      if (conv.startsWith('dm:')) history.readers.set(conv, new Set([user, dmTo.get(clientMsgId)!]));
    }

    const live = clients.filter((c) => c.state !== 'closed');
    await waitFor(() => live.every((c) => c.state === 'online'), SETTLE_MS, `every client online (${clients.map((c) => c.state).join()})`);
    // The apps show what was stored: pushed, or read back after a fault; a message still missing after the wait is an anomaly.
    const shownAll = (i: number): boolean => {
      const shown = new Set(history.shown.get(names[i]!)!.map((m) => m.clientMsgId));
      return [...history.acked].every(([clientMsgId, { conv }]) => !history.readers.get(conv)?.has(names[i]!) || shown.has(clientMsgId));
    };
    await waitFor(() => clients.every((c, i) => c.state === 'closed' || shownAll(i)), SETTLE_MS).catch(() => undefined);
    for (const row of await topology.storedMessages(prefix)) history.stored.set(row.clientMsgId, [...(history.stored.get(row.clientMsgId) ?? []), row.id]);
    for (const [i, client] of clients.entries()) {
      if (client.state === 'closed') continue;
      const convs = new Map<string, Seen[]>();
      for (const [conv, readers] of history.readers) {
        if (readers.has(names[i]!)) convs.set(conv, (await conversationView(client, conv)).filter((m) => m.clientMsgId.startsWith(prefix)).map(seen));
      }
      history.views.set(names[i]!, convs);
    }
    const acknowledged: Record<string, number> = {};
    for (const { conv } of history.acked.values()) acknowledged[conv.split(':')[0]!] = (acknowledged[conv.split(':')[0]!] ?? 0) + 1;
    return { seed, operations: options.operations, acknowledged, faults, anomalies: [...extra, ...check(history)] };
  } finally {
    for (const client of clients) client.close();
    await Promise.allSettled(over);
    await topology.close();
  }
}
