/**
 * The floor the real server is compared against: a bare Node TCP fan-out with the same
 * framing and the same frames on the wire, but no authentication, no validation and no
 * storage. hello and login are answered at once; each send is numbered, pushed to every
 * other connection (encoded once) and answered. Like a good fan-out it coalesces: what a
 * connection is owed in one event-loop turn leaves in one write at the end of the turn.
 * With --tls it admits connections through the host's own TLS gate, so a TLS run of the host
 * is compared with a TLS floor. Prints `listening <port>` when ready.
 */
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { FrameDecoder, encodeFrame } from '../src-main/net/frame.js';
import { TlsGate, loadOrCreateIdentity } from '../src-main/net/tls.js';
import { installProbe } from './probe.js';

/** --data: the folder holding the room certificate the bench made (as the host's data folder does). */
const { values } = parseArgs({ options: { tls: { type: 'boolean', default: false }, data: { type: 'string' } } });

const sockets = new Set<Socket>();
const names = new Map<Socket, string>();
/** Frames owed to each connection this turn, written together by flush(). */
const owed = new Map<Socket, Buffer[]>();
let nextId = 1;

function send(socket: Socket, frame: Buffer): void {
  const frames = owed.get(socket);
  if (frames) {
    frames.push(frame);
    return;
  }
  if (owed.size === 0) setImmediate(flush);
  owed.set(socket, [frame]);
}

/** Runs once per turn after the reads (the check phase): one write per connection. */
function flush(): void {
  for (const [socket, frames] of owed) {
    if (!socket.destroyed) socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }
  owed.clear();
}

async function tlsGate(dataDir: string | undefined): Promise<TlsGate> {
  if (!dataDir) throw new Error('--tls needs --data <dir> with the room certificate');
  const identity = await loadOrCreateIdentity(dataDir);
  return new TlsGate({ identity, handshakeTimeoutMs: 10_000, onSecure: serve, onRejected: () => undefined });
}
const gate = values.tls ? await tlsGate(values.data) : null;

function serve(socket: Socket): void {
  socket.setNoDelay(true);
  sockets.add(socket);
  const decoder = new FrameDecoder(1024 * 1024);
  socket.on('error', () => undefined);
  socket.on('close', () => {
    sockets.delete(socket);
    names.delete(socket);
  });
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.kind !== 'frame') continue;
      const request = frame.value as { type: string; id: number; name?: string; clientMsgId?: string; text?: string };
      if (request.type === 'send') {
        const message = { id: nextId++, conv: 'room', from: names.get(socket) ?? '', text: request.text, ts: Date.now(), clientMsgId: request.clientMsgId };
        const push = encodeFrame({ type: 'message', message });
        for (const other of sockets) if (other !== socket) send(other, push);
        send(socket, encodeFrame({ type: 'res', id: request.id, ok: true, result: { message, duplicate: false, delivered: true } }));
      } else if (request.type === 'ping') {
        send(socket, encodeFrame({ type: 'pong' }));
      } else {
        if (request.type === 'login') names.set(socket, request.name ?? '');
        send(socket, encodeFrame({ type: 'res', id: request.id, ok: true, result: { name: request.name, lastMessageId: nextId - 1 } }));
      }
    }
  });
}

const server = createServer((socket) => (gate ? gate.admit(socket) : serve(socket)));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  installProbe();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
process.once('SIGTERM', () => process.exit(0));
