/**
 * The client against a scripted server on a real loopback socket: frames that
 * break the protocol close the connection with a reason instead of reaching the app.
 */
import { type AddressInfo, type Server, createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { Connection } from '../net/connection.js';
import { ChatClient } from './client.js';

type Answer = (request: { type: string; id: number }) => unknown;

const room = {
  hello: { protocol: '1.0', server: 'scripted', room: 'Lab', heartbeatMs: 60_000, maxFrameBytes: 1 << 20, maxTextLength: 8000 },
  login: { name: 'alice', registered: false, token: 't'.repeat(43), lastMessageId: 0, deliveredUpTo: 0 },
  sync: { messages: [], hasMore: false },
};

const servers: Server[] = [];
const clients: ChatClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  vi.restoreAllMocks();
});

/** A server that answers hello, login and sync like a room, and anything else with `answer`; `afterLogin` runs once logged in. */
async function scriptedServer(answer: Answer, afterLogin: (connection: Connection) => void = () => undefined): Promise<number> {
  const server = createServer((socket) => {
    const connection = new Connection(socket, { maxFrameBytes: 1 << 20, maxQueuedBytes: 1 << 20 });
    connection.onFrame((frame) => {
      if (frame.kind !== 'frame') return;
      const request = frame.value as { type: string; id: number };
      if (request.type === 'ping' || request.type === 'pong') return;
      const result = request.type in room ? room[request.type as keyof typeof room] : answer(request);
      connection.send({ type: 'res', id: request.id, ok: true, result });
      if (request.type === 'sync') afterLogin(connection);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function connect(port: number): Promise<{ client: ChatClient; offline: Promise<WireError | null> }> {
  const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, reconnect: false });
  clients.push(client);
  const offline = new Promise<WireError | null>((resolve) => client.once('offline', resolve));
  await client.connect();
  return { client, offline };
}

describe('ChatClient and frames that break the protocol', () => {
  it('refuses a result that does not match its request, and closes the connection saying why', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await scriptedServer(() => ({ users: [{ name: 'bob', online: 'yes', lastSeen: null }] }));
    const { client, offline } = await connect(port);

    await expect(client.request('users')).rejects.toMatchObject({ code: 'PROTOCOL_ERROR', message: expect.stringMatching(/users\.0\.online/) });
    expect(await offline).toMatchObject({ code: ErrorCode.BAD_FRAME, message: expect.stringMatching(/result of users: users\.0\.online/) });
    expect(client.state).toBe('closed');
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/the server broke the protocol/));
  });

  it('refuses a push with a wrong field, and never passes it on', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const port = await scriptedServer(
      () => ({}),
      (connection) => connection.send({ type: 'presence', user: 'bob', online: true, ts: 'now' }),
    );
    const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, reconnect: false });
    clients.push(client);
    const presence = vi.fn();
    client.on('presence', presence);
    const offline = new Promise<WireError | null>((resolve) => client.once('offline', resolve));
    await client.connect();

    expect(await offline).toMatchObject({ code: ErrorCode.BAD_FRAME, message: expect.stringMatching(/a presence push: ts: /) });
    expect(presence).not.toHaveBeenCalled();
  });

  it('ignores push types it does not know and fields it does not know, as a later 1.x server may send them', async () => {
    const port = await scriptedServer(
      () => ({ contacts: [] }),
      (connection) => {
        connection.send({ type: 'sticker', user: 'bob' });
        connection.send({ type: 'presence', user: 'bob', online: true, ts: 5, device: 'phone' });
      },
    );
    const client = new ChatClient({ host: '127.0.0.1', port, name: 'alice', password: 'pw', tls: false, reconnect: false });
    clients.push(client);
    const presence = new Promise((resolve) => client.once('presence', resolve));
    await client.connect();

    expect(await presence).toEqual({ type: 'presence', user: 'bob', online: true, ts: 5 });
    await expect(client.request('contacts')).resolves.toEqual({ contacts: [] });
    expect(client.state).toBe('online');
  });
});
