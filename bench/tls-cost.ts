/**
 * What one connection costs the server with and without TLS, apart from everything else the host
 * does: a server process that only admits connections through TlsGate (src-main/net/tls.ts) and
 * echoes nothing, `count` clients that connect, handshake and then stay idle. Prints resident
 * memory per connection and CPU time per handshake, read from /proc for the server process.
 * Run: npx tsx bench/tls-cost.ts [count]
 */
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { TlsGate, loadOrCreateIdentity } from '../src-main/net/tls.js';
import { processFigures, removeDir, round, sleep, tempDataDir } from './common.js';

const BATCH = 100;

async function serve(tls: boolean): Promise<void> {
  const dir = tempDataDir();
  const held = new Set<Socket>();
  const hold = (socket: Socket): void => {
    held.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => held.delete(socket));
  };
  const gate = tls
    ? new TlsGate({ identity: await loadOrCreateIdentity(dir), handshakeTimeoutMs: 30_000, onSecure: hold, onRejected: () => undefined })
    : null;
  removeDir(dir);
  const server = createServer((socket) => (gate ? gate.admit(socket) : hold(socket)));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!(typeof address === 'object' && address ? address.port : 0);
  });
}

async function measure(tls: boolean, count: number): Promise<Record<string, number | boolean>> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', tls ? 'tls' : 'plain'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (message) => resolve(message as number)));
  const server = processFigures(child);
  await sleep(500);
  const idleMb = server.rssMb();
  const cpuBefore = server.cpuSeconds();
  const clients: Socket[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(BATCH, count - start) },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = tls
              ? connectTls({ socket: connect({ port, host: '127.0.0.1' }), rejectUnauthorized: false }, () => resolve(socket))
              : connect({ port, host: '127.0.0.1' }, () => resolve(socket));
            socket.once('error', reject);
          }),
      ),
    );
    clients.push(...batch);
  }
  const cpu = server.cpuSeconds() - cpuBefore;
  await sleep(1000);
  const heldMb = server.rssMb();
  for (const client of clients) client.destroy();
  await server.stop();
  return {
    tls,
    connections: count,
    rss_idle_mb: idleMb,
    rss_held_mb: heldMb,
    kb_per_connection: round(((heldMb - idleMb) * 1024) / count, 1),
    cpu_ms_per_connection: round((cpu * 1000) / count, 3),
  };
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex >= 0) {
  await serve(process.argv[serveIndex + 1] === 'tls');
  process.once('SIGTERM', () => process.exit(0));
} else {
  const count = Number(process.argv[2] ?? 2000);
  for (const tls of [false, true]) console.log(JSON.stringify(await measure(tls, count)));
}
