/**
 * Where a room can be reached: its address and, for a cluster, its other nodes' (docs/PROTOCOL.md §19).
 * Each client takes the addresses in an order of its own, drawn at random once, so clients spread over
 * the nodes instead of all crowding the first, and the clients of a node that stops spread over the rest;
 * after that the one last reached is tried first.
 */
import { ClientError } from './errors.js';
import { type OpenSocket, type TransportOptions, openSocket } from './transport.js';

export interface ServerAddress {
  host: string;
  port: number;
}

/** The addresses in a random order: each in turn drawn from those left. A source that draws 0 keeps the order given. */
export function drawOrder<T>(items: readonly T[], random: () => number): T[] {
  const left = [...items];
  const order: T[] = [];
  while (left.length > 0) order.push(left.splice(Math.floor(random() * left.length), 1)[0]!);
  return order;
}

export class RoomAddresses {
  private readonly addresses: readonly ServerAddress[];
  private index = 0;

  /** `random`: the draw of this client's order (Math.random); `() => 0` keeps the order given. */
  constructor(addresses: readonly [ServerAddress, ...ServerAddress[]], random: () => number = Math.random) {
    this.addresses = drawOrder(addresses, random);
  }

  /** The address last reached (before any, the first of this client's order). */
  get current(): ServerAddress {
    return this.addresses[this.index]!;
  }

  /** The address left says it stops (bye SERVER_DRAINING): the next open begins at the one after it. */
  moveOn(): void {
    this.index = (this.index + 1) % this.addresses.length;
  }

  /**
   * Opens a socket to the address that last worked, or, if it cannot be reached, to the next that
   * can, in this client's order; any other failure (a changed certificate, no TLS) stops at that address.
   */
  async open(options: Omit<TransportOptions, 'host' | 'port'>): Promise<OpenSocket> {
    let unreachable: unknown;
    for (let i = 0; i < this.addresses.length; i++) {
      const index = (this.index + i) % this.addresses.length;
      try {
        const opened = await openSocket({ ...this.addresses[index]!, ...options });
        this.index = index;
        return opened;
      } catch (error) {
        if (!(error instanceof ClientError) || error.code !== 'CONNECT_FAILED') throw error;
        unreachable = error;
      }
    }
    throw unreachable;
  }
}
