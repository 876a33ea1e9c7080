/**
 * Reconnect storm: many ChatClients (reconnect, token resume, catch-up, outbox) online
 * while a few send; the host process is stopped and started again on the same port
 * and data. Every client must be back and hold every message exactly once.
 */
import { performance } from 'node:perf_hooks';
import { ChatClient } from '../src-main/client/client.js';
import { type Result, transport, removeDir, round, seedDataDir, serverFigures, sleep, spawnServer, tempDataDir, until } from './common.js';

export interface ReconnectOptions {
  clients: number;
  senders: number;
}

const SEND_EVERY_MS = 50;

export async function reconnect(options: ReconnectOptions): Promise<Result> {
  const dataDir = tempDataDir();
  const accounts = await seedDataDir(dataDir, options.clients);
  let server = await spawnServer('host.ts', ['--data', dataDir]);
  const port = server.port;
  const clients = accounts.map(
    (account) =>
      new ChatClient({
        host: '127.0.0.1',
        port,
        name: account.name,
        token: account.token,
        tls: transport.tls,
        backoffMinMs: 200,
        backoffMaxMs: 2000,
      }),
  );
  /** Per client, how many times each (sender, clientMsgId) arrived. */
  const received = clients.map(() => new Map<string, number>());
  clients.forEach((client, index) => {
    client.on('message', (message) => {
      const key = `${message.from}/${message.clientMsgId}`;
      received[index]!.set(key, (received[index]!.get(key) ?? 0) + 1);
    });
  });
  const acknowledged: string[] = [];
  const sends: Promise<unknown>[] = [];
  let sending = true;
  let sendLoop: NodeJS.Timeout | undefined;
  try {
    for (let start = 0; start < clients.length; start += 100) await Promise.all(clients.slice(start, start + 100).map((client) => client.connect()));
    const senders = clients.slice(0, options.senders);
    let counter = 0;
    sendLoop = setInterval(() => {
      if (!sending) return;
      for (const [index, sender] of senders.entries()) {
        // By account name: while the host restarts a client has no session.
        const clientMsgId = `${accounts[index]!.name}-${counter}`;
        sends.push(
          sender.send({ kind: 'room' }, `tick ${counter}`, clientMsgId).then((message) => {
            acknowledged.push(`${message.from}/${message.clientMsgId}`);
          }),
        );
      }
      counter += 1;
    }, SEND_EVERY_MS);
    await sleep(1000);

    const restartedAt = performance.now();
    await server.stop();
    server = await spawnServer('host.ts', ['--data', dataDir, '--port', String(port)]);
    await server.probe!.reset();
    const cpuBefore = server.cpuSeconds();
    const startedAfter = (performance.now() - restartedAt) / 1000;
    await until(() => clients.every((client) => client.state === 'online'), 30_000, 'every client back online');
    const backAfter = (performance.now() - restartedAt) / 1000;
    sending = false;
    clearInterval(sendLoop);
    await Promise.all(sends);
    const holdsAll = (index: number): boolean => acknowledged.every((key) => received[index]!.has(key));
    await until(() => clients.every((_, index) => holdsAll(index)), 30_000, 'every client caught up').catch(() => undefined);
    const recovered = (performance.now() - restartedAt) / 1000;
    let lost = 0;
    let duplicated = 0;
    for (const counts of received) {
      for (const key of acknowledged) if (!counts.has(key)) lost += 1;
      for (const count of counts.values()) if (count > 1) duplicated += count - 1;
    }
    return {
      // The restarted host, from when it listens until every client is caught up.
      ...(await serverFigures(server, cpuBefore)),
      workload: 'reconnect',
      clients: clients.length,
      messages: acknowledged.length,
      host_start_s: round(startedAfter, 2),
      all_online_s: round(backAfter, 2),
      recovered_s: round(recovered, 2),
      lost,
      duplicated,
    };
  } finally {
    sending = false;
    clearInterval(sendLoop);
    // Closing rejects what is still in the outboxes; those were never acknowledged, so never counted.
    for (const send of sends) send.catch(() => undefined);
    for (const client of clients) client.close();
    await server.stop();
    removeDir(dataDir);
  }
}
