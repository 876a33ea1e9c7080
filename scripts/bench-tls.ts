/**
 * What TLS costs: connect + hello + token login, and messages stored and pushed
 * to a second client, with TLS on and off. Prints one JSON object.
 * `npx tsx scripts/bench-tls.ts [connects] [messages]`
 */
import { performance } from 'node:perf_hooks';
import { ChatClient } from '../src-main/client/client.js';
import type { Host } from '../src-main/core/host.js';
import { login, removeDir, startTestHost, tempDir } from '../src-main/testing/harness.js';

const connects = Number(process.argv[2] ?? 100);
const messages = Number(process.argv[3] ?? 2000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(tls: boolean) {
  const dir = tempDir('lanchat-bench-');
  let host: Host | null = null;
  const clients: ChatClient[] = [];
  try {
    host = await startTestHost(dir, { tls });
    const sender = await login(host, 'sender', undefined, { tls });
    const reader = await login(host, 'reader', undefined, { tls });
    clients.push(sender, reader);

    const connectMs: number[] = [];
    for (let i = 0; i < connects; i += 1) {
      const start = performance.now();
      const client = new ChatClient({ host: '127.0.0.1', port: host.address.port, name: 'reader', token: reader.sessionToken!, tls });
      await client.connect();
      connectMs.push(performance.now() - start);
      client.close();
    }

    let received = 0;
    const allReceived = new Promise<void>((resolve) => {
      reader.on('message', () => {
        received += 1;
        if (received === messages) resolve();
      });
    });
    const start = performance.now();
    await Promise.all(Array.from({ length: messages }, (_, i) => sender.send({ kind: 'room' }, `message ${i}`)));
    await allReceived;
    const seconds = (performance.now() - start) / 1000;
    return { connectLoginMedianMs: Number(median(connectMs).toFixed(2)), messagesPerSecond: Math.round(messages / seconds) };
  } finally {
    for (const client of clients) client.close();
    await host?.stop();
    removeDir(dir);
  }
}

const withTls = await measure(true);
const plain = await measure(false);
console.log(JSON.stringify({ connects, messages, tls: withTls, plain }));
