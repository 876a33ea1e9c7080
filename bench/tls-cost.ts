/**
 * What one connection costs the server with and without TLS, apart from everything else the host
 * does: a server process that only admits connections through TlsGate (bench/tls-floor-server.ts), `count`
 * clients that connect (100 at a time, or `batch`), handshake and then stay idle. Prints resident memory per
 * connection and CPU time per handshake, read from /proc for the server process, and the server's
 * event-loop delay during the handshakes, for the gate as it is and for one that begins every
 * handshake at once (`turnMinMs: Infinity`), run alternately.
 * With `--traffic KIND` each client then writes 300 bytes (a hello and a login), the server writes to
 * every connection, and the memory is read again once everything was taken: `big` one 300 KB write
 * each, `small` 100 writes of 200 bytes each (one a turn), `presence` 20 KB a second in pieces under a
 * TLS record as the host writes, 100 KB in all unless `--presence-kb` says (what a login ramp of about
 * 300 a second sends).
 * Run: npx tsx bench/tls-cost.ts [count] [rounds] [--traffic big|small|presence] [--presence-kb N] [--variants plain,tls,...]
 *      [--server-flags="--node-flag ..."]
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildServers } from './build.js';
import { measure, percentile, processFigures, round, sleep } from './common.js';

const BATCH = 100;
/** What each client writes before the server's traffic: a hello and a login. */
const LOGIN_BYTES = 300;
const VARIANTS = ['plain', 'tls', 'tls-unpaced'] as const;
export type Variant = (typeof VARIANTS)[number];
const TRAFFIC = ['big', 'small', 'presence'] as const;
export type Traffic = (typeof TRAFFIC)[number];

/** One server of `variant` holding `count` connections; `npm run bench` runs it as the `tls-floor` workload. */
export async function tlsCost(
  variant: Variant,
  count: number,
  traffic: Traffic | undefined,
  serverFlags: string[] = [],
  presenceKb = 100,
  batch = BATCH,
): Promise<Record<string, number | string>> {
  const tls = variant !== 'plain';
  const child = measure.tsx
    ? fork(fileURLToPath(new URL('tls-floor-server.ts', import.meta.url)), [variant], { execArgv: [...serverFlags, '--expose-gc', '--import', 'tsx'] })
    : fork(join(await buildServers(), 'tls-floor-server.js'), [variant], { execArgv: [...serverFlags, '--expose-gc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (message) => resolve(message as number)));
  const ask = <T>(request: string): Promise<T> =>
    new Promise<T>((resolve) => {
      child.once('message', (message) => resolve(message as T));
      child.send(request);
    });
  const server = processFigures(child);
  type Heap = { heapTotalMb: number; externalMb: number };
  await sleep(500);
  const idleHeap = await ask<Heap>('heap');
  const idleMb = server.rssMb();
  const cpuBefore = server.cpuSeconds();
  child.send('start');
  const clients: Socket[] = [];
  const connectedAfter: number[] = [];
  const startedAt = performance.now();
  const connected = (socket: Socket, resolve: (socket: Socket) => void): void => {
    connectedAfter.push(performance.now() - startedAt);
    resolve(socket);
  };
  for (let start = 0; start < count; start += batch) {
    const batchOf = await Promise.all(
      Array.from(
        { length: Math.min(batch, count - start) },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = tls
              ? connectTls({ socket: connect({ port, host: '127.0.0.1' }), rejectUnauthorized: false }, () => connected(socket, resolve))
              : connect({ port, host: '127.0.0.1' }, () => connected(socket, resolve));
            socket.once('error', reject);
            socket.on('data', () => undefined);
          }),
      ),
    );
    clients.push(...batchOf);
  }
  const connectS = (performance.now() - startedAt) / 1000;
  const cpu = server.cpuSeconds() - cpuBefore;
  const loop = await ask<{ loopMaxMs: number; loopP99Ms: number }>('read');
  await sleep(1000);
  const heldHeap = await ask<Heap>('heap');
  const heldMb = server.rssMb();
  const result: Record<string, number | string> = {
    variant,
    connections: count,
    rss_idle_mb: idleMb,
    rss_held_mb: heldMb,
    kb_per_connection: round(((heldMb - idleMb) * 1024) / count, 1),
    cpu_ms_per_connection: round((cpu * 1000) / count, 3),
    // With `batch` ≥ count every client connects at once, as after a restart: how long until all were in.
    connect_s: round(connectS, 2),
    connect_p50_s: round(percentile(connectedAfter, 0.5) / 1000, 2),
    loop_p99_ms: loop.loopP99Ms,
    loop_max_ms: loop.loopMaxMs,
    heap_total_idle_mb: idleHeap.heapTotalMb,
    heap_total_held_mb: heldHeap.heapTotalMb,
    external_held_mb: heldHeap.externalMb,
  };
  if (traffic) {
    // Each client first writes what a client says before it is logged in (hello and login, about 300 bytes), as the host's do.
    for (const client of clients) client.write(Buffer.alloc(LOGIN_BYTES, 1));
    while ((await ask<number>('received')) < count * LOGIN_BYTES) await sleep(100);
    await ask(`${traffic} ${presenceKb}`);
    await sleep(1000);
    const afterHeap = await ask<Heap>('heap');
    const afterMb = server.rssMb();
    Object.assign(result, {
      traffic,
      ...(traffic === 'presence' ? { presence_kb: presenceKb } : {}),
      rss_after_traffic_mb: afterMb,
      kb_per_connection_after_traffic: round(((afterMb - idleMb) * 1024) / count, 1),
      heap_total_after_traffic_mb: afterHeap.heapTotalMb,
      external_after_traffic_mb: afterHeap.externalMb,
    });
  }
  for (const client of clients) client.destroy();
  await server.stop();
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { traffic: { type: 'string' }, 'presence-kb': { type: 'string', default: '100' }, variants: { type: 'string' }, 'server-flags': { type: 'string' } },
  });
  const count = Number(positionals[0] ?? 2000);
  const rounds = Number(positionals[1] ?? 1);
  const traffic = values.traffic as Traffic | undefined;
  if (traffic !== undefined && !TRAFFIC.includes(traffic)) throw new Error(`--traffic is one of ${TRAFFIC.join(', ')}`);
  const variants = (values.variants?.split(',') ?? VARIANTS) as Variant[];
  const serverFlags = values['server-flags']?.split(' ').filter(Boolean) ?? [];
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) console.log(JSON.stringify(await tlsCost(variant, count, traffic, serverFlags, Number(values['presence-kb']))));
  }
}
