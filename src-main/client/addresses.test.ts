import { type Server, type Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../testing/ports.js';
import { seededRandom } from '../testing/prng.js';
import { RoomAddresses, type ServerAddress, drawOrder } from './addresses.js';

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A plain TCP listener on loopback. */
async function listener(): Promise<ServerAddress> {
  const server = createServer((socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: '127.0.0.1', port: (server.address() as { port: number }).port };
}

const key = ({ port }: ServerAddress): number => port;

describe('the addresses of a room', () => {
  const nodes: [ServerAddress, ...ServerAddress[]] = [1, 2, 3].map((port) => ({ host: 'node', port })) as [ServerAddress, ...ServerAddress[]];

  it('start 300 clients at each of three nodes about a third of the time, and send the clients of each node on to both others', () => {
    const random = seededRandom(36);
    const starts = new Map<number, number>();
    const movesFrom = new Map<string, number>();
    for (let client = 0; client < 300; client++) {
      const order = drawOrder(nodes, random).map(key);
      starts.set(order[0]!, (starts.get(order[0]!) ?? 0) + 1);
      movesFrom.set(`${order[0]}→${order[1]}`, (movesFrom.get(`${order[0]}→${order[1]}`) ?? 0) + 1);
      expect([...order].sort()).toEqual([1, 2, 3]);
    }
    for (const port of [1, 2, 3]) expect(starts.get(port)).toBeGreaterThan(80);
    // Each node's clients, should it stop, do not all land on one other node.
    for (const from of [1, 2, 3]) for (const to of [1, 2, 3].filter((other) => other !== from)) expect(movesFrom.get(`${from}→${to}`)).toBeGreaterThan(25);
  });

  it('keep the order given when the draw is always 0', () => {
    expect(drawOrder(nodes, () => 0).map(key)).toEqual([1, 2, 3]);
    expect(new RoomAddresses(nodes, () => 0).current).toEqual(nodes[0]);
  });

  it('move past an address that cannot be reached to the next of the client\'s order, and keep to the one reached', async () => {
    const [b, c] = [await listener(), await listener()];
    const down = { host: '127.0.0.1', port: await freePort() };
    // The draw puts the address that is down first, then c, then b.
    const draws = [0, 0.9, 0];
    const addresses = new RoomAddresses([down, b, c], () => draws.shift()!);
    expect(addresses.current).toEqual(down);
    const open = async (): Promise<number | undefined> => {
      const { socket } = await addresses.open({ tls: false, connectTimeoutMs: 5000, fingerprint: undefined });
      sockets.push(socket);
      return socket.remotePort;
    };
    expect(await open()).toBe(c.port);
    expect(addresses.current).toEqual(c);
    expect(await open()).toBe(c.port);
  });
});
