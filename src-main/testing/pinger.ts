/**
 * A bystander on its own thread (its own event loop, as another machine would have): logs in
 * over TLS, pings every 10 ms and records the longest wait for a pong. A server stall shows as
 * a long wait here even though the test's own thread stalls with the server.
 */
import { Worker } from 'node:worker_threads';

const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const tls = require('node:tls');
const socket = tls.connect({ host: '127.0.0.1', port: workerData.port, rejectUnauthorized: false });
let buffered = Buffer.alloc(0), sentAt = 0, waiting = false, longest = 0, pongs = 0, timer = null;
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
        sentAt = performance.now();
        send({ type: 'ping' });
      }, 10);
      parentPort.postMessage({ ready: frame.ok });
    }
    if (frame.type === 'pong') {
      longest = Math.max(longest, performance.now() - sentAt);
      waiting = false;
      pongs += 1;
    }
    if (frame.type === 'bye') parentPort.postMessage({ error: 'closed: ' + frame.error.code });
  }
});
parentPort.on('message', () => {
  clearInterval(timer);
  if (waiting) longest = Math.max(longest, performance.now() - sentAt);
  parentPort.postMessage({ longest, pongs });
});
`;

export interface PingStats {
  /** The longest wait for a pong, in ms (a pong still owed counts until now). */
  longest: number;
  pongs: number;
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
          if (message.longest !== undefined) resolve(message as PingStats);
        });
        worker.postMessage('stop');
      });
      await worker.terminate();
      if (failure) throw new Error(`pinger ${name}: ${failure}`);
      return stats;
    },
  };
}
