/**
 * What one connection costs the server with and without TLS, apart from everything else the host
 * does: a server process that only admits connections through TlsGate (src-main/net/tls.ts) and
 * echoes nothing, `count` clients that connect (100 at a time), handshake and then stay idle. Prints
 * resident memory per connection and CPU time per handshake, read from /proc for the server process,
 * and the server's event-loop delay during the handshakes, for the gate as it is and for one that
 * begins every handshake at once (`turnMinMs: Infinity`), run alternately.
 * Run: npx tsx bench/tls-cost.ts [count] [rounds]
 */
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { TlsGate, loadOrCreateIdentity } from '../src-main/net/tls.js';
import { processFigures, removeDir, round, sleep, tempDataDir } from './common.js';

const BATCH = 100;

type Variant = 'plain' | 'tls' | 'tls-unpaced';

async function serve(variant: Variant): Promise<void> {
  const tls = variant !== 'plain';
  const dir = tempDataDir();
  const held = new Set<Socket>();
  const hold = (socket: Socket): void => {
    held.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => held.delete(socket));
  };
  const gate = tls
    ? new TlsGate({
        identity: await loadOrCreateIdentity(dir),
        handshakeTimeoutMs: 30_000,
        onSecure: hold,
        onRejected: () => undefined,
        ...(variant === 'tls-unpaced' ? { turnMinMs: Infinity } : {}),
      })
    : null;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  process.on('message', (request) => {
    if (request === 'start') delay.enable();
    else process.send!({ loopMaxMs: Math.round(delay.max / 1e4) / 100, loopP99Ms: Math.round(delay.percentile(99) / 1e4) / 100 });
  });
  removeDir(dir);
  const server = createServer((socket) => (gate ? gate.admit(socket) : hold(socket)));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!(typeof address === 'object' && address ? address.port : 0);
  });
}

async function measure(variant: Variant, count: number): Promise<Record<string, number | string>> {
  const tls = variant !== 'plain';
  const child = fork(fileURLToPath(import.meta.url), ['--serve', variant], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (message) => resolve(message as number)));
  const server = processFigures(child);
  await sleep(500);
  const idleMb = server.rssMb();
  const cpuBefore = server.cpuSeconds();
  child.send('start');
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
  const loop = await new Promise<{ loopMaxMs: number; loopP99Ms: number }>((resolve) => {
    child.once('message', (message) => resolve(message as { loopMaxMs: number; loopP99Ms: number }));
    child.send('read');
  });
  await sleep(1000);
  const heldMb = server.rssMb();
  for (const client of clients) client.destroy();
  await server.stop();
  return {
    variant,
    connections: count,
    rss_idle_mb: idleMb,
    rss_held_mb: heldMb,
    kb_per_connection: round(((heldMb - idleMb) * 1024) / count, 1),
    cpu_ms_per_connection: round((cpu * 1000) / count, 3),
    loop_p99_ms: loop.loopP99Ms,
    loop_max_ms: loop.loopMaxMs,
  };
}

const serveIndex = process.argv.indexOf('--serve');
if (serveIndex >= 0) {
  await serve(process.argv[serveIndex + 1] as Variant);
  process.once('SIGTERM', () => process.exit(0));
} else {
  const count = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 1);
  for (let round = 0; round < rounds; round++) {
    for (const variant of ['plain', 'tls', 'tls-unpaced'] as const) console.log(JSON.stringify(await measure(variant, count)));
  }
}
