/**
 * Conversation changes fanned out in the room (issue 12): every client first sends one message,
 * then toggles reactions on it, one request at a time, and moves its read position. Each reaction
 * reaches every client (deliveries/s, latency from the request to each push); a read position
 * reaches only the reader's own sessions, so its figure is the request's round trip.
 */
import { performance } from 'node:perf_hooks';
import { type Result, percentile, removeDir, round, seedDataDir, spawnServer, tempDataDir, transport, until } from './common.js';
import { startMeasuring } from './chat.js';
import { loadOrCreateIdentity } from '../src-main/net/tls.js';
import { WireClient } from './wire.js';

export interface ChangesOptions {
  clients: number;
  /** Reaction toggles per client. */
  reactionsEach: number;
}

const EMOJI = ['👍', '🎉', '❤️', '😂', '🚀'];

export async function changes(options: ChangesOptions): Promise<Result> {
  const dataDir = tempDataDir();
  if (transport.tls) await loadOrCreateIdentity(dataDir);
  const accounts = await seedDataDir(dataDir, options.clients);
  const server = await spawnServer('host.ts', ['--data', dataDir]);
  const clients = await Promise.all(accounts.map((account) => WireClient.login(server.port, account.name, account.token, transport.tls)));
  try {
    // Each client reacts only to its own message, so a reaction push names the client whose request caused it.
    const own = new Map<number, number>();
    for (const [index, client] of clients.entries()) {
      const { message } = await client.sendToRoom(`own-${index}`, `reactions to ${client.name}`) as { message: { id: number } };
      own.set(message.id, index);
    }
    const sentAt: number[] = new Array(clients.length).fill(0);
    const latencies: number[] = [];
    let deliveries = 0;
    for (const client of clients) {
      client.onEvent = (event) => {
        if (event.kind !== 'reaction') return;
        deliveries += 1;
        const index = own.get(event.message.id);
        if (index !== undefined) latencies.push(performance.now() - sentAt[index]!);
      };
    }
    const measured = await startMeasuring(server);
    const started = performance.now();
    const readTrips: number[] = [];
    await Promise.all(
      clients.map(async (client, index) => {
        const messageId = [...own].find(([, owner]) => owner === index)![0];
        for (let i = 0; i < options.reactionsEach; i++) {
          sentAt[index] = performance.now();
          await client.request('react', { messageId, emoji: EMOJI[i % EMOJI.length], on: i % (2 * EMOJI.length) < EMOJI.length });
          const before = performance.now();
          await client.request('read', { conv: 'room', upTo: messageId });
          readTrips.push(performance.now() - before);
        }
      }),
    );
    const expected = clients.length * clients.length * options.reactionsEach;
    await until(() => deliveries >= expected, 60_000, 'every reaction push').catch(() => undefined);
    const seconds = (performance.now() - started) / 1000;
    return {
      ...(await measured()),
      workload: 'changes',
      clients: clients.length,
      reactions: clients.length * options.reactionsEach,
      deliveries,
      lost: expected - deliveries,
      deliveries_per_s: round(deliveries / seconds, 0),
      reaction_p50_ms: round(percentile(latencies, 0.5)),
      reaction_p99_ms: round(percentile(latencies, 0.99)),
      read_p99_ms: round(percentile(readTrips, 0.99)),
    };
  } finally {
    for (const client of clients) client.close();
    await server.stop();
    removeDir(dataDir);
  }
}
