/**
 * Many connections: thousands of clients logged in and held open with heartbeats,
 * while a few of them chat in a group; nobody may be dropped.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { groupConversation } from '../src-shared/protocol/conversation.js';
import { nameKey } from '../src-shared/protocol/names.js';
import { openStore } from '../src-main/store/store.js';
import { type Result, transport, databaseFile, percentile, removeDir, round, seedAccounts, serverFigures, sleep, spawnServer, tempDataDir } from './common.js';
import { WireClient } from './wire.js';

export interface ConnectionsOptions {
  clients: number;
  holdSeconds: number;
  chatters: number;
  /** A folder to write a heap snapshot of the host into once everyone is logged in. */
  heapSnapshotDir?: string;
}

/** Logins in flight at once while connecting everyone. */
const LOGIN_CONCURRENCY = 200;
const PING_EVERY_MS = 5000;

export async function connections(options: ConnectionsOptions): Promise<Result> {
  const dataDir = tempDataDir();
  const store = openStore(databaseFile(dataDir));
  const accounts = await seedAccounts(store, options.clients);
  const chatAccounts = accounts.slice(0, options.chatters);
  const group = store.createGroup('chatters', nameKey('chatters'), chatAccounts[0]!.id, Date.now());
  for (const account of chatAccounts) store.addMember(group.id, account.id);
  await store.close();
  const server = await spawnServer('host.ts', ['--data', dataDir]);
  const clients: WireClient[] = [];
  try {
    const idleRssMb = server.rssMb();
    await server.probe!.reset();
    const cpuBefore = server.cpuSeconds();
    const loginStarted = performance.now();
    for (let start = 0; start < accounts.length; start += LOGIN_CONCURRENCY) {
      const batch = accounts.slice(start, start + LOGIN_CONCURRENCY);
      const logged = await Promise.all(batch.map((account) => WireClient.login(server.port, account.name, account.token, transport.tls)));
      for (const client of logged) {
        if (clients.length >= options.chatters) client.ignoreIncoming();
        // Spread the pings over the interval instead of sending 10,000 at once.
        setTimeout(() => client.startHeartbeat(PING_EVERY_MS), Math.random() * PING_EVERY_MS).unref();
        clients.push(client);
      }
    }
    const loginSeconds = (performance.now() - loginStarted) / 1000;
    const peakAfterLoginMb = server.peakRssMb();
    const afterLoginMb = server.rssMb();
    // What the host wrote to each connection by then (answers, presence of the others): the floor's traffic (tls-floor).
    const receivedKb = clients.reduce((sum, client) => sum + client.bytesReceived, 0) / 1024 / clients.length;
    const afterLogin = await server.probe!.read();

    const chatters = clients.slice(0, options.chatters);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    for (const chatter of chatters) {
      chatter.onMessage = (message) => {
        const sent = sentAt.get(message.clientMsgId);
        if (sent !== undefined) latencies.push(performance.now() - sent);
      };
    }
    const conv = groupConversation(group.id);
    let counter = 0;
    const chat = setInterval(() => {
      const chatter = chatters[counter % chatters.length]!;
      const clientMsgId = `${chatter.name}-${counter++}`;
      sentAt.set(clientMsgId, performance.now());
      // A chatter the host dropped (a heartbeat missed on a loaded machine) is counted in `dropped`, not thrown.
      chatter.request('send', { clientMsgId, to: { kind: 'group', groupId: group.id }, text: `still here, ${conv}` }).catch(() => undefined);
    }, 20);
    await sleep(options.holdSeconds * 1000);
    clearInterval(chat);
    await sleep(200);
    const result: Result = {
      ...(await serverFigures(server, cpuBefore)),
      workload: 'connections',
      clients: clients.length,
      hold_s: options.holdSeconds,
      login_s: round(loginSeconds, 1),
      dropped: clients.filter((client) => client.closed).length,
      rss_idle_mb: idleRssMb,
      rss_after_login_mb: afterLoginMb,
      peak_rss_after_login_mb: peakAfterLoginMb,
      // What each logged-in connection holds: resident memory grown by the logins, per client.
      kb_per_connection: round(((afterLoginMb - idleRssMb) * 1024) / clients.length, 1),
      kb_received_per_client: round(receivedKb, 1),
      heap_used_after_login_mb: afterLogin.heapUsedMb,
      heap_total_after_login_mb: afterLogin.heapTotalMb,
      external_after_login_mb: afterLogin.externalMb,
      chat_messages: counter,
      p50_ms: round(percentile(latencies, 0.5), 2),
      p99_ms: round(percentile(latencies, 0.99), 2),
      drop_reasons: dropReasons(dataDir),
    };
    // Last: writing the snapshot holds the host's event loop for seconds.
    if (options.heapSnapshotDir) {
      // The host writes the snapshot there; into a missing folder it died and the bench lost the run.
      mkdirSync(options.heapSnapshotDir, { recursive: true });
      result.heap_snapshot = await server.probe!.heapSnapshot(join(options.heapSnapshotDir, `host-${options.clients}-connections.heapsnapshot`));
    }
    return result;
  } finally {
    for (const client of clients) client.close();
    await server.stop();
    removeDir(dataDir);
  }
}

/** Why the host closed connections, from its log: "CODE×count" pairs, or "none". */
function dropReasons(dataDir: string): string {
  const counts = new Map<string, number>();
  for (const line of readFileSync(join(dataDir, 'server.log'), 'utf8').split('\n')) {
    if (!line.includes('"event":"disconnect"')) continue;
    const reason = (JSON.parse(line) as { reason?: string }).reason ?? 'unknown';
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return counts.size === 0 ? 'none' : [...counts].map(([reason, count]) => `${reason}x${count}`).join(',');
}
