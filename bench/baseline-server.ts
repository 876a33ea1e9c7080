/**
 * The floor the real server is compared against: a bare Node TCP fan-out with the same
 * framing and the same frames on the wire, but no authentication, no validation and no
 * storage. hello and login are answered at once; each send is numbered, pushed to every
 * other connection (encoded once) and answered.
 * Prints `listening <port>` when ready.
 */
import { createServer, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '../src-main/net/frame.js';

const sockets = new Set<Socket>();
const names = new Map<Socket, string>();
let nextId = 1;

const server = createServer((socket) => {
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
        for (const other of sockets) if (other !== socket) other.write(push);
        socket.write(encodeFrame({ type: 'res', id: request.id, ok: true, result: { message, duplicate: false, delivered: true } }));
      } else if (request.type === 'ping') {
        socket.write(encodeFrame({ type: 'pong' }));
      } else {
        if (request.type === 'login') names.set(socket, request.name ?? '');
        socket.write(encodeFrame({ type: 'res', id: request.id, ok: true, result: { name: request.name, lastMessageId: nextId - 1 } }));
      }
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
process.once('SIGTERM', () => process.exit(0));
