/**
 * The files workload (issue 13): a 200 MB file uploaded to and downloaded from the real host
 * (its own process, TLS unless --plain) with the client library, each as MB/s and as a ratio to
 * a bare TLS socket copy of as many bytes to and from a process that does nothing else, measured
 * in the same run. Meanwhile two chat clients exchange a message every 20 ms; their p99 latency
 * during the transfers is printed next to the same exchange's with no transfer under way.
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { type Socket, connect as connectTcp, createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ChatClient } from '../src-main/client/client.js';
import type { TransferLink } from '../src-main/client/transfer-link.js';
import { downloadFile, uploadFile } from '../src-main/client/transfer.js';
import { TlsGate, loadOrCreateIdentity } from '../src-main/net/tls.js';
import { type Result, percentile, removeDir, round, seedDataDir, spawnServer, tempDataDir, transport } from './common.js';

export interface FilesOptions {
  /** Size of the file, in MB. */
  megabytes: number;
  /** Rounds of bare copy and transfer, each way; the figures are medians (each ratio within its round). */
  rounds: number;
}

const CHAT_EVERY_MS = 20;
const MB = 1024 * 1024;

/** The bare copy's far end: takes `bytes` and answers one byte, or sends `bytes`; nothing else. */
async function serveBare(tls: boolean): Promise<void> {
  const dir = tempDataDir();
  const identity = tls ? await loadOrCreateIdentity(dir) : null;
  removeDir(dir);
  const chunk = randomBytes(256 * 1024);
  const handle = (socket: Socket): void => {
    let header = '';
    const onHeader = (data: Buffer): void => {
      header += data.toString('latin1');
      const end = header.indexOf('\n');
      if (end < 0) return;
      socket.off('data', onHeader);
      const [mode, size] = header.slice(0, end).split(' ');
      let left = Number(size);
      if (mode === 'up') {
        socket.on('data', (more: Buffer) => {
          left -= more.length;
          if (left <= 0) socket.end('k');
        });
        return;
      }
      const pump = (): void => {
        while (left > 0) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= part.length;
          if (!socket.write(part)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    };
    socket.on('data', onHeader);
    socket.on('error', () => undefined);
  };
  const gate = identity ? new TlsGate({ identity, handshakeTimeoutMs: 30_000, onSecure: handle, onRejected: () => undefined }) : null;
  const server = createServer((socket) => (gate ? gate.admit(socket) : handle(socket)));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!(typeof address === 'object' && address ? address.port : 0);
  });
}

/** Seconds to copy `bytes` over one bare socket to (up) or from (down) the bare process. */
function bareCopy(port: number, tls: boolean, direction: 'up' | 'down', bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = tls ? connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false }) : connectTcp({ host: '127.0.0.1', port });
    socket.on('error', reject);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      socket.write(`${direction} ${bytes}\n`);
      if (direction === 'down') {
        let got = 0;
        socket.on('data', (data: Buffer) => (got += data.length));
        socket.on('end', () => (got >= bytes ? resolve((performance.now() - started) / 1000) : reject(new Error('short copy'))));
        return;
      }
      const chunk = randomBytes(256 * 1024);
      let left = bytes;
      const pump = (): void => {
        while (left > 0) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= part.length;
          if (!socket.write(part)) return void socket.once('drain', pump);
        }
      };
      socket.once('data', () => {
        resolve((performance.now() - started) / 1000);
        socket.destroy();
      });
      pump();
    });
  });
}

/** Two clients of the host: one sends a message every CHAT_EVERY_MS, the other's receipts give the latencies. */
async function chatPair(port: number, fingerprint: string | null, accounts: { name: string; token: string }[]) {
  const connectAs = (account: { name: string; token: string }): Promise<ChatClient> => {
    const client = new ChatClient({ host: '127.0.0.1', port, name: account.name, token: account.token, tls: transport.tls, ...(fingerprint ? { fingerprint } : {}) });
    return client.connect().then(() => client);
  };
  const [sender, receiver] = await Promise.all([connectAs(accounts[0]!), connectAs(accounts[1]!)]);
  const sentAt = new Map<string, number>();
  let latencies: number[] = [];
  receiver.on('message', (message) => {
    const at = sentAt.get(message.clientMsgId);
    if (at !== undefined) latencies.push(performance.now() - at);
  });
  let counter = 0;
  const timer = setInterval(() => {
    const clientMsgId = `p${++counter}`;
    sentAt.set(clientMsgId, performance.now());
    void sender.send({ kind: 'room' }, 'ping', clientMsgId).catch(() => undefined);
  }, CHAT_EVERY_MS);
  return {
    sender,
    /** The latencies since the last call, and starts counting anew. */
    take(): number[] {
      const taken = latencies;
      latencies = [];
      return taken;
    },
    close(): void {
      clearInterval(timer);
      sender.close();
      receiver.close();
    },
  };
}

export async function files(options: FilesOptions): Promise<Result> {
  const bytes = options.megabytes * MB;
  const dataDir = tempDataDir();
  const work = tempDataDir();
  if (transport.tls) await loadOrCreateIdentity(dataDir);
  const accounts = await seedDataDir(dataDir, 2);
  const host = await spawnServer('host.ts', ['--data', dataDir, '--max-file-mb', String(options.megabytes + 1)]);
  const bare = fork(fileURLToPath(import.meta.url), ['--serve-bare', String(transport.tls)], { execArgv: ['--import', 'tsx'] });
  const barePort = await new Promise<number>((resolve) => bare.once('message', (message) => resolve(message as number)));
  const source = join(work, 'source.bin');
  const hash = createHash('sha256');
  const fd = openSync(source, 'w');
  for (let written = 0; written < bytes; written += MB) {
    const chunk = randomBytes(MB);
    hash.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const sha256 = hash.digest('hex');
  const chat = await chatPair(host.port, null, accounts);
  try {
    const link: TransferLink = chat.sender.transferLink()!;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const quiet = chat.take();
    const seconds = { bareUp: [] as number[], up: [] as number[], bareDown: [] as number[], down: [] as number[] };
    const duringUpload: number[] = [];
    const duringDownload: number[] = [];
    const timed = async (work: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await work();
      return (performance.now() - started) / 1000;
    };
    for (let round = 0; round < options.rounds; round++) {
      // Each transfer right after its bare copy, so a slow moment of the machine falls on both alike.
      seconds.bareUp.push(await bareCopy(barePort, transport.tls, 'up', bytes));
      chat.take();
      let fileId = '';
      seconds.up.push(await timed(async () => (fileId = (await uploadFile(link, { source: { path: source }, name: 'bench.bin', sha256 })).id)));
      duringUpload.push(...chat.take());
      // Only readers of the conversation may download it, so it goes to the room.
      await chat.sender.send({ kind: 'room' }, 'the file', undefined, undefined, [{ fileId }]);
      seconds.bareDown.push(await bareCopy(barePort, transport.tls, 'down', bytes));
      chat.take();
      const target = join(work, `downloaded-${round}.bin`);
      seconds.down.push(await timed(() => downloadFile(link, { fileId, path: target })));
      duringDownload.push(...chat.take());
      rmSync(target);
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const mbPerSecond = (values: number[]): number => round(options.megabytes / median(values), 1);
    const ratios = (bare: number[], real: number[]): number => round(median(bare.map((b, i) => b / real[i]!)), 2);
    return {
      workload: 'files',
      file_mb: options.megabytes,
      rounds: options.rounds,
      upload_mb_s: mbPerSecond(seconds.up),
      bare_upload_mb_s: mbPerSecond(seconds.bareUp),
      upload_vs_bare: ratios(seconds.bareUp, seconds.up),
      download_mb_s: mbPerSecond(seconds.down),
      bare_download_mb_s: mbPerSecond(seconds.bareDown),
      download_vs_bare: ratios(seconds.bareDown, seconds.down),
      chat_p99_ms_quiet: round(percentile(quiet, 0.99), 1),
      chat_p99_ms_during_upload: round(percentile(duringUpload, 0.99), 1),
      chat_p99_ms_during_download: round(percentile(duringDownload, 0.99), 1),
      chat_messages_during_transfers: duringUpload.length + duringDownload.length,
    };
  } finally {
    chat.close();
    bare.kill();
    await host.stop();
    removeDir(dataDir);
    removeDir(work);
  }
}

if (process.argv[2] === '--serve-bare') void serveBare(process.argv[3] === 'true');
