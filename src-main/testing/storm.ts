/**
 * A registration storm from its own thread (as an attacker's machine would be): connect over
 * TLS from rotating loopback addresses, send hello and a registering login, close at once.
 */
import { Worker } from 'node:worker_threads';

const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const tls = require('node:tls');
const frame = (value) => {
  const payload = Buffer.from(JSON.stringify(value));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
};
const cycle = (n) => new Promise((resolve) => {
  const socket = tls.connect({
    host: '127.0.0.1', port: workerData.port, rejectUnauthorized: false,
    localAddress: '127.0.' + (Math.floor(n / 200) % 250) + '.' + (n % 200 + 2),
  }, () => {
    socket.write(Buffer.concat([
      frame({ type: 'hello', id: 1, protocol: workerData.protocol }),
      frame({ type: 'login', id: 2, name: 'junk' + n, password: 'junk-password' }),
    ]));
    socket.end();
    socket.destroy();
    resolve();
  });
  socket.on('error', () => resolve());
}).then(() => parentPort.postMessage(1));
(async () => {
  for (let n = 0; n < workerData.cycles; n += workerData.parallel) {
    await Promise.all(Array.from({ length: Math.min(workerData.parallel, workerData.cycles - n) }, (_, i) => cycle(n + i)));
  }
})();
`;

/**
 * Starts the storm of `cycles` (without end by default); `cycles()` says how many ended so far; `stop` ends
 * it where it is (cycles under way are cut off) and rejects if its thread failed.
 */
export function runStorm(port: number, protocol: string, cycles = Infinity, parallel = 10): { cycles(): number; stop(): Promise<void> } {
  const worker = new Worker(SCRIPT, { eval: true, workerData: { port, protocol, cycles, parallel } });
  let failure: unknown;
  let ended = 0;
  worker.on('error', (error) => (failure = error));
  worker.on('message', () => (ended += 1));
  return {
    cycles: () => ended,
    stop: async () => {
      await worker.terminate();
      if (failure) throw failure;
    },
  };
}
