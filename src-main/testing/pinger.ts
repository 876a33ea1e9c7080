/**
 * A bystander on its own thread (its own event loop, as another machine would have): logs in
 * over TLS and pings every 10 ms, one ping in flight at a time, counting pings and pongs. Whether
 * every ping is answered is behaviour a test asserts; how fast belongs to `npm run bench` (history:
 * the bystander's round trips during the search attack).
 */
import { Worker } from 'node:worker_threads';

const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const tls = require('node:tls');
const socket = tls.connect({ host: '127.0.0.1', port: workerData.port, rejectUnauthorized: false });
let buffered = Buffer.alloc(0), waiting = false, pings = 0, pongs = 0, closed = false, timer = null, stopping = false;
const report = () => parentPort.postMessage({ pings, pongs, closed });
const send = (value) => {
  const payload = Buffer.from(JSON.stringify(value));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  socket.write(Buffer.concat([header, payload]));
};
socket.on('secureConnect', () => {
  send({ type: 'hello', id: 1, protocol: workerData.protocol });
  send({ type: 'login', id: 2, name: workerData.name, password: workerData.name + '-secret' });
});
socket.on('error', (error) => parentPort.postMessage({ error: String(error) }));
socket.on('data', (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
    const frame = JSON.parse(buffered.subarray(4, 4 + buffered.readUInt32BE(0)).toString());
    buffered = buffered.subarray(4 + buffered.readUInt32BE(0));
    if (frame.type === 'res' && frame.id === 2) {
      timer = setInterval(() => {
        if (waiting) return;
        waiting = true;
        pings += 1;
        send({ type: 'ping' });
      }, 10);
      parentPort.postMessage({ ready: frame.ok });
    }
    if (frame.type === 'pong') {
      waiting = false;
      pongs += 1;
      if (stopping) report();
    }
    if (frame.type === 'bye') parentPort.postMessage({ error: 'closed: ' + frame.error.code });
  }
});
socket.on('close', () => {
  closed = true;
  if (stopping) report();
});
// Stops pinging; reports once the ping in flight, if any, is answered (or the connection closed).
parentPort.on('message', () => {
  clearInterval(timer);
  stopping = true;
  if (!waiting || closed) report();
});
`;

export interface PingStats {
  pings: number;
  pongs: number;
  /** Whether the server closed the connection. */
  closed: boolean;
}

export interface Pinger {
  stop(): Promise<PingStats>;
}

export async function startPinger(port: number, name: string, protocol: string): Promise<Pinger> {
  const worker = new Worker(SCRIPT, { eval: true, workerData: { port, name, protocol } });
  let failure: string | null = null;
  await new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (message: { ready?: boolean; error?: string }) => {
      if (message.error) failure ??= message.error;
      if (message.ready === true) resolve();
      if (message.ready === false || message.error) reject(new Error(`pinger ${name}: ${message.error ?? 'login refused'}`));
    });
  });
  return {
    stop: async () => {
      const stats = await new Promise<PingStats>((resolve) => {
        worker.on('message', (message: Partial<PingStats>) => {
          if (message.pings !== undefined) resolve(message as PingStats);
        });
        worker.postMessage('stop');
      });
      await worker.terminate();
      if (failure) throw new Error(`pinger ${name}: ${failure}`);
      return stats;
    },
  };
}
