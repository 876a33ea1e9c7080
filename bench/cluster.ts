/**
 * `npm run bench -- --cluster`: the burst and connections workloads on a clustered room of 1, 2
 * and 3 host nodes (bench/host.ts with --postgres and --nats), on Debian's PostgreSQL and
 * nats-server started here, clients spread over the nodes in turn. Each figure is per node
 * count; CPU is the nodes' together (PostgreSQL's and NATS's not counted). On one machine the
 * nodes share its cores, so more nodes show what clustering costs, not what it gains.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadOrCreateIdentity } from '../src-main/net/tls.js';
import { nameKey } from '../src-shared/protocol/names.js';
import { openPgStore } from '../src-main/store/pg/open.js';
import { type PostgresServer, postgresMissing, startPostgres } from '../src-main/store/pg/testing.js';
import { NatsServer, natsMissing } from '../src-main/testing/nats.js';
import { DeliveryLedger, messageText } from './chat.js';
import { type Account, type Result, type ServerProcess, percentile, removeDir, round, seedAccounts, sleep, spawnServer, tempDataDir, transport, until } from './common.js';
import { WireClient } from './wire.js';

export interface ClusterBenchOptions {
  nodeCounts: number[];
  /** Each round runs every node count once, so the node counts' runs are interleaved (run.ts takes their medians). */
  rounds: number;
  burst: { clients: number; messagesEach: number };
  connections: { clients: number; holdSeconds: number; chatters: number };
}

/** Why the cluster bench cannot run here, or undefined. */
export const clusterBenchMissing = postgresMissing ?? natsMissing;

interface Cluster {
  nodes: ServerProcess[];
  accounts: Account[];
  groupId: number;
  stop(): Promise<void>;
}

/** The running services, and a database per room. */
interface Services {
  postgres: PostgresServer;
  nats: NatsServer;
  dir: string;
  rooms: number;
}

async function openCluster(services: Services, nodeCount: number, accounts: number, chatters: number): Promise<Cluster> {
  const database = `bench${++services.rooms}`;
  await services.postgres.createDatabase(database);
  const url = services.postgres.url(database);
  const store = await openPgStore(url);
  let seeded: Account[];
  let groupId: number;
  try {
    seeded = await seedAccounts(store, accounts);
    const group = await store.createGroup('chatters', nameKey('chatters'), seeded[0]!.id, Date.now());
    for (const account of seeded.slice(0, chatters)) await store.addMember(group.id, account.id);
    groupId = group.id;
  } finally {
    await store.close();
  }
  const dirs = Array.from({ length: nodeCount }, () => tempDataDir());
  if (transport.tls) {
    await loadOrCreateIdentity(dirs[0]!);
    for (const dir of dirs.slice(1)) {
      mkdirSync(dir, { recursive: true });
      for (const file of ['tls-key.pem', 'tls-cert.pem']) copyFileSync(join(dirs[0]!, file), join(dir, file));
    }
  }
  const nodes: ServerProcess[] = [];
  try {
    for (const dir of dirs) nodes.push(await spawnServer('host.ts', ['--data', dir, '--postgres', url, '--nats', services.nats.url]));
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return {
    nodes,
    accounts: seeded,
    groupId,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      for (const dir of dirs) removeDir(dir);
    },
  };
}

/** Client i logs in to node i mod n. */
function loginSpread(cluster: Cluster, accounts: Account[]): Promise<WireClient[]> {
  return Promise.all(
    accounts.map((account, i) => WireClient.login(cluster.nodes[i % cluster.nodes.length]!.port, account.name, account.token, transport.tls)),
  );
}

const cpuOf = (nodes: ServerProcess[]): number => nodes.reduce((sum, node) => sum + node.cpuSeconds(), 0);

/** bench/chat.ts's burst (a window of one send per client) with the clients spread over the nodes. */
async function clusterBurst(services: Services, nodeCount: number, options: ClusterBenchOptions['burst']): Promise<Result> {
  const cluster = await openCluster(services, nodeCount, options.clients, 0);
  const clients = await loginSpread(cluster, cluster.accounts);
  try {
    const ledger = new DeliveryLedger(clients.length);
    clients.forEach((client, index) => {
      client.onMessage = (message) => ledger.receive(index, message.from, message.clientMsgId);
    });
    const expected = clients.length * (clients.length - 1) * options.messagesEach;
    const cpuBefore = cpuOf(cluster.nodes);
    const started = performance.now();
    const sending = clients.map(async (client) => {
      for (let i = 0; i < options.messagesEach; i++) {
        const clientMsgId = `${client.name}-${i}`;
        ledger.sentAt.set(clientMsgId, performance.now());
        await client.sendToRoom(clientMsgId, messageText(client.name, i));
      }
    });
    await until(() => ledger.delivered >= expected, 120_000, 'every delivery').catch(() => undefined);
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(sending);
    const cpu = cpuOf(cluster.nodes) - cpuBefore;
    return {
      workload: 'cluster-burst',
      nodes: nodeCount,
      clients: clients.length,
      messages: clients.length * options.messagesEach,
      deliveries_per_s: Math.round(ledger.delivered / seconds),
      p50_ms: round(percentile(ledger.latencies, 0.5), 1),
      p99_ms: round(percentile(ledger.latencies, 0.99), 1),
      lost: expected - ledger.delivered,
      duplicated: ledger.duplicated,
      cpu_s: round(cpu, 2),
      cpu_s_per_100k_deliveries: ledger.delivered > 0 ? round((cpu * 100_000) / ledger.delivered, 3) : NaN,
      rss_mb_per_node: round(cluster.nodes.reduce((sum, node) => sum + node.rssMb(), 0) / nodeCount, 1),
    };
  } finally {
    for (const client of clients) client.close();
    await cluster.stop();
  }
}

/** bench/connections.ts's workload: everyone logged in and pinging, a few chatting in a group, spread over the nodes. */
async function clusterConnections(services: Services, nodeCount: number, options: ClusterBenchOptions['connections']): Promise<Result> {
  const cluster = await openCluster(services, nodeCount, options.clients, options.chatters);
  const clients: WireClient[] = [];
  try {
    const idleRssMb = cluster.nodes.reduce((sum, node) => sum + node.rssMb(), 0);
    const cpuBefore = cpuOf(cluster.nodes);
    const loginStarted = performance.now();
    for (let start = 0; start < cluster.accounts.length; start += 200) {
      for (const client of await loginSpread(cluster, cluster.accounts.slice(start, start + 200))) {
        if (clients.length >= options.chatters) client.ignoreIncoming();
        setTimeout(() => client.startHeartbeat(5000), Math.random() * 5000).unref();
        clients.push(client);
      }
    }
    const loginSeconds = (performance.now() - loginStarted) / 1000;
    const afterLoginMb = cluster.nodes.reduce((sum, node) => sum + node.rssMb(), 0);
    // The chatters are the first accounts, so on different nodes: every message crosses the bus.
    const chatters = clients.slice(0, options.chatters);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    for (const chatter of chatters) {
      chatter.onMessage = (message) => {
        const sent = sentAt.get(message.clientMsgId);
        if (sent !== undefined) latencies.push(performance.now() - sent);
      };
    }
    let counter = 0;
    const chat = setInterval(() => {
      const chatter = chatters[counter % chatters.length]!;
      const clientMsgId = `${chatter.name}-${counter++}`;
      sentAt.set(clientMsgId, performance.now());
      void chatter.request('send', { clientMsgId, to: { kind: 'group', groupId: cluster.groupId }, text: 'still here' });
    }, 20);
    await sleep(options.holdSeconds * 1000);
    clearInterval(chat);
    await sleep(200);
    return {
      workload: 'cluster-connections',
      nodes: nodeCount,
      clients: clients.length,
      hold_s: options.holdSeconds,
      login_s: round(loginSeconds, 1),
      dropped: clients.filter((client) => client.closed).length,
      cpu_s: round(cpuOf(cluster.nodes) - cpuBefore, 2),
      kb_per_connection: round(((afterLoginMb - idleRssMb) * 1024) / clients.length, 1),
      rss_mb_per_node: round(afterLoginMb / nodeCount, 1),
      chat_messages: counter,
      p50_ms: round(percentile(latencies, 0.5), 2),
      p99_ms: round(percentile(latencies, 0.99), 2),
    };
  } finally {
    for (const client of clients) client.close();
    await cluster.stop();
  }
}

/** Runs both workloads per node count, `rounds` times; `report` gets each result as it comes. */
export async function clusterBench(options: ClusterBenchOptions, report: (result: Result) => void): Promise<void> {
  const dir = tempDataDir();
  const [postgres, nats] = await Promise.all([startPostgres(), NatsServer.start(dir)]);
  const services: Services = { postgres, nats, dir, rooms: 0 };
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const nodes of options.nodeCounts) report(await clusterBurst(services, nodes, options.burst));
      for (const nodes of options.nodeCounts) report(await clusterConnections(services, nodes, options.connections));
    }
  } finally {
    await Promise.allSettled([postgres.stop(), nats.stop()]);
    removeDir(dir);
  }
}
