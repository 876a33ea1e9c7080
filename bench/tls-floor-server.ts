/**
 * The bare TLS server of bench/tls-cost.ts, in a process of its own: connections admitted through the
 * host's TlsGate (src-main/net/tls.ts) and held, nothing else. Run bundled as the host is (bench/build.ts):
 * through tsx its idle memory held some 195 MB of the loader's, which the connections then reused, so it
 * looked 17 KB a connection leaner than it was. Imports nothing of the bench's (common.ts would bundle vite).
 * Answers tls-cost's requests over the IPC channel.
 * Usage (from tls-cost): node tls-floor-server.js plain|tls|tls-unpaced
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { WRITE_PIECE_BYTES } from '../src-main/net/connection.js';
import { TlsGate, loadOrCreateIdentity } from '../src-main/net/tls.js';
import type { Traffic, Variant } from './tls-cost.js';

/** Presence traffic is written 20 KB a second, what a login ramp of about 300 a second sends each peer. */
const PRESENCE_KB_A_SECOND = 20;

/** Writes `bytes` to `socket` a piece under a TLS record at a time, the next once the socket wrote the last, as the host does. */
function writeInPieces(socket: Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const next = (offset: number): void => {
      if (offset >= bytes.length || socket.destroyed) resolve();
      else socket.write(bytes.subarray(offset, offset + WRITE_PIECE_BYTES), () => next(offset + WRITE_PIECE_BYTES));
    };
    next(0);
  });
}

/** Writes `traffic` to every held socket (presence: `presenceKb` in all); resolves once the kernel took all of it. */
async function writeTraffic(held: ReadonlySet<Socket>, traffic: Traffic, presenceKb: number): Promise<void> {
  if (traffic === 'big') {
    for (const socket of held) socket.write(Buffer.alloc(300 * 1024, 1));
  } else if (traffic === 'small') {
    for (let i = 0; i < 100; i++) {
      for (const socket of held) socket.write(Buffer.alloc(200, 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
  } else {
    for (let written = 0; written < presenceKb; written += PRESENCE_KB_A_SECOND) {
      const bytes = Buffer.alloc(Math.min(PRESENCE_KB_A_SECOND, presenceKb - written) * 1024, 1);
      await Promise.all([...held].map((socket) => writeInPieces(socket, bytes)).concat(sleep(1000)));
    }
  }
  while ([...held].some((socket) => socket.writableLength > 0)) await sleep(50);
}

const variant = process.argv[2] as Variant;
const dir = mkdtempSync(join(tmpdir(), 'lanchat-tls-floor-'));
const held = new Set<Socket>();
let received = 0;
const hold = (socket: Socket): void => {
  held.add(socket);
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.on('close', () => held.delete(socket));
};
const gate =
  variant === 'plain'
    ? null
    : new TlsGate({
        identity: await loadOrCreateIdentity(dir),
        handshakeTimeoutMs: 30_000,
        onSecure: hold,
        onRejected: () => undefined,
        ...(variant === 'tls-unpaced' ? { turnMinMs: Infinity } : {}),
      });
rmSync(dir, { recursive: true, force: true });
const delay = monitorEventLoopDelay({ resolution: 1 });
process.on('message', (request: string) => {
  if (request === 'start') delay.enable();
  else if (request === 'received') process.send!(received);
  else if (request === 'read') {
    process.send!({ loopMaxMs: Math.round(delay.max / 1e4) / 100, loopP99Ms: Math.round(delay.percentile(99) / 1e4) / 100 });
  } else if (request === 'heap') {
    // Garbage left by the writes is not what a connection holds.
    global.gc!();
    const { heapTotal, external } = process.memoryUsage();
    process.send!({ heapTotalMb: Math.round(heapTotal / 2 ** 20 * 10) / 10, externalMb: Math.round(external / 2 ** 20 * 10) / 10 });
  } else {
    const [traffic, kb] = request.split(' ');
    void writeTraffic(held, traffic as Traffic, Number(kb)).then(() => process.send!('written'));
  }
});
process.once('SIGTERM', () => process.exit(0));
const server = createServer((socket) => (gate ? gate.admit(socket) : hold(socket)));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!(typeof address === 'object' && address ? address.port : 0);
});
