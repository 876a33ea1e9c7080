/**
 * Room fan-out workloads, run against the real host, the bare baseline, ngircd, mosquitto or nats-server:
 * light (paced senders, latency) and burst (everyone pipelines, throughput).
 */
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3-multiple-ciphers';
import {
  type Account,
  type Result,
  type ServerProcess,
  transport,
  databaseFile,
  percentile,
  removeDir,
  round,
  seedDataDir,
  serverFigures,
  spawnServer,
  tempDataDir,
  until,
} from './common.js';
import { loadOrCreateIdentity } from '../src-main/net/tls.js';
import { IrcClient, MqttClient, NatsClient, type PeerClient, spawnPeer } from './peers.js';
import { WireClient } from './wire.js';

export type RoomServer = 'host' | 'baseline' | 'ngircd' | 'mosquitto' | 'nats';

export interface ChatOptions {
  server: RoomServer;
  clients: number;
  messagesEach: number;
  /** Burst: sends each client keeps unacknowledged; Infinity writes them all at once. */
  window?: number;
}

/** Counts what every receiver got, per (sender, clientMsgId), and the latency of each delivery. */
export class DeliveryLedger {
  readonly latencies: number[] = [];
  readonly sentAt = new Map<string, number>();
  delivered = 0;
  duplicated = 0;
  private readonly seen: Set<string>[];

  constructor(receivers: number) {
    this.seen = Array.from({ length: receivers }, () => new Set<string>());
  }

  receive(receiver: number, from: string, clientMsgId: string): void {
    const now = performance.now();
    const key = `${from}/${clientMsgId}`;
    const seen = this.seen[receiver]!;
    if (seen.has(key)) {
      this.duplicated += 1;
      return;
    }
    seen.add(key);
    this.delivered += 1;
    const sentAt = this.sentAt.get(clientMsgId);
    if (sentAt !== undefined) this.latencies.push(now - sentAt);
  }
}

interface Room {
  server: ServerProcess;
  clients: PeerClient[];
  accounts: Account[];
  ledger: DeliveryLedger;
  dataDir: string;
  stop(): Promise<void>;
}

async function openRoom(options: ChatOptions): Promise<Room> {
  const dataDir = tempDataDir();
  // Made here, so neither the host nor the baseline carries the certificate generation's garbage.
  if (transport.tls) await loadOrCreateIdentity(dataDir);
  let accounts: Account[];
  let server: ServerProcess;
  if (options.server === 'host') {
    accounts = await seedDataDir(dataDir, options.clients);
    server = await spawnServer('host.ts', ['--data', dataDir]);
  } else {
    accounts = Array.from({ length: options.clients }, (_, i) => ({ id: i + 1, name: `user${i}`, token: 'x'.repeat(43) }));
    server = options.server === 'baseline' ? await spawnServer('baseline-server.ts', ['--data', dataDir]) : await spawnPeer(options.server, dataDir, transport.tls);
  }
  const join = (account: Account): Promise<PeerClient> => {
    if (options.server === 'ngircd') return IrcClient.join(server.port, account.name);
    if (options.server === 'mosquitto') return MqttClient.join(server.port, account.name, transport.tls);
    if (options.server === 'nats') return NatsClient.join(server.port, account.name, transport.tls);
    return WireClient.login(server.port, account.name, account.token, transport.tls);
  };
  const clients = await Promise.all(accounts.map(join));
  const ledger = new DeliveryLedger(clients.length);
  clients.forEach((client, index) => {
    client.onMessage = (message) => ledger.receive(index, message.from, message.clientMsgId);
  });
  return {
    server,
    clients,
    accounts,
    ledger,
    dataDir,
    stop: async () => {
      for (const client of clients) client.close();
      await server.stop();
      removeDir(dataDir);
    },
  };
}

export const messageText = (sender: string, i: number): string => `message ${i} from ${sender}: the quick brown fox jumps over the lazy dog`;

const workloadName = (server: RoomServer, kind: 'light' | 'burst'): string => (server === 'host' ? kind : `${server}-${kind}`);

/** Starts the server-side measurements of a workload (event-loop delay, CPU time). */
export async function startMeasuring(server: ServerProcess): Promise<() => Promise<Result>> {
  await server.probe?.reset();
  const cpuBefore = server.cpuSeconds();
  return () => serverFigures(server, cpuBefore);
}

/**
 * Every client sends `messagesEach` at 20 per second (staggered so they do not all fire in the same
 * millisecond), as `round` of the run; resolves when every send is acknowledged and `ledger` has
 * every delivery (or after 10 s, when `lost` will say what is missing).
 */
async function pacedRound(clients: PeerClient[], ledger: DeliveryLedger, messagesEach: number, round: string): Promise<void> {
  const expected = ledger.delivered + clients.length * (clients.length - 1) * messagesEach;
  const acks: Promise<unknown>[] = [];
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          let sent = 0;
          setTimeout(() => {
            const timer = setInterval(() => {
              const clientMsgId = `${client.name}-${round}${sent}`;
              ledger.sentAt.set(clientMsgId, performance.now());
              acks.push(client.sendToRoom(clientMsgId, messageText(client.name, sent)));
              sent += 1;
              if (sent === messagesEach) {
                clearInterval(timer);
                resolve();
              }
            }, 50);
          }, Math.random() * 50);
        }),
    ),
  );
  await Promise.all(acks);
  await until(() => ledger.delivered >= expected, 10_000, 'every delivery').catch(() => undefined);
}

/**
 * Messages each client sends before `light` measures: a server runs for hours, and what is measured
 * is its steady state, not the first calls of its code (V8 compiles a function for speed only after
 * it has run often). The same for every server compared.
 */
const WARM_UP_EACH = 20;

/** Every client sends `messagesEach` at 20 per second; latency from send to receipt at every other client. */
export async function light(options: ChatOptions): Promise<Result> {
  const room = await openRoom(options);
  try {
    const { clients } = room;
    const warmUp = new DeliveryLedger(clients.length);
    const ledger = room.ledger;
    clients.forEach((client, index) => {
      client.onMessage = (message) => warmUp.receive(index, message.from, message.clientMsgId);
    });
    await pacedRound(clients, warmUp, WARM_UP_EACH, 'warm-');
    clients.forEach((client, index) => {
      client.onMessage = (message) => ledger.receive(index, message.from, message.clientMsgId);
    });
    const measured = await startMeasuring(room.server);
    await pacedRound(clients, ledger, options.messagesEach, '');
    const expected = clients.length * (clients.length - 1) * options.messagesEach;
    return {
      ...(await measured()),
      workload: workloadName(options.server, 'light'),
      clients: clients.length,
      messages: clients.length * options.messagesEach,
      p50_ms: round(percentile(ledger.latencies, 0.5), 3),
      p99_ms: round(percentile(ledger.latencies, 0.99), 3),
      lost: expected - ledger.delivered,
      duplicated: ledger.duplicated + warmUp.duplicated,
    };
  } finally {
    await room.stop();
  }
}

/** Every client pipelines all its messages at once; deliveries per second end to end. */
export async function burst(options: ChatOptions): Promise<Result> {
  const room = await openRoom(options);
  try {
    const { clients, ledger } = room;
    const expected = clients.length * (clients.length - 1) * options.messagesEach;
    const window = Math.min(options.window ?? Infinity, options.messagesEach);
    const measured = await startMeasuring(room.server);
    const started = performance.now();
    // Each client keeps `window` sends in flight: a lane sends its next message when the last is acknowledged.
    const sending = clients.map((client) => {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < options.messagesEach) {
          const i = next++;
          const clientMsgId = `${client.name}-${i}`;
          ledger.sentAt.set(clientMsgId, performance.now());
          await client.sendToRoom(clientMsgId, messageText(client.name, i));
        }
      };
      return Promise.all(Array.from({ length: window }, lane));
    });
    await until(() => ledger.delivered >= expected, 120_000, 'every delivery').catch(() => undefined);
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(sending);
    const server = await measured();
    const result: Result = {
      ...server,
      workload: workloadName(options.server, 'burst'),
      clients: clients.length,
      messages: clients.length * options.messagesEach,
      window,
      deliveries: ledger.delivered,
      seconds: round(seconds, 3),
      deliveries_per_s: Math.round(ledger.delivered / seconds),
      p50_ms: round(percentile(ledger.latencies, 0.5), 1),
      p99_ms: round(percentile(ledger.latencies, 0.99), 1),
      lost: expected - ledger.delivered,
      duplicated: ledger.duplicated,
      cpu_s_per_100k_deliveries: ledger.delivered > 0 ? round(((server.cpu_s as number) * 100_000) / ledger.delivered, 3) : NaN,
    };
    if (options.server === 'host') result.missing_in_database = missingInDatabase(room, options.messagesEach);
    return result;
  } finally {
    await room.stop();
  }
}

/** Messages sent in the burst that the database does not hold, read from the SQLite file itself. */
function missingInDatabase(room: Room, messagesEach: number): number {
  const db = new Database(databaseFile(room.dataDir), { readonly: true });
  try {
    const count = db.prepare('SELECT count(*) FROM messages WHERE sender_id = ? AND client_msg_id = ?').pluck();
    let missing = 0;
    for (const account of room.accounts) {
      for (let i = 0; i < messagesEach; i++) if (count.get(account.id, `${account.name}-${i}`) !== 1) missing += 1;
    }
    return missing;
  } finally {
    db.close();
  }
}
