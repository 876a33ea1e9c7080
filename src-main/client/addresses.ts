/**
 * Where a room can be reached: its address and, for a cluster, its other nodes' (docs/PROTOCOL.md §19),
 * the one last reached tried first.
 */
import { ClientError } from './errors.js';
import { type OpenSocket, type TransportOptions, openSocket } from './transport.js';

export interface ServerAddress {
  host: string;
  port: number;
}

export class RoomAddresses {
  private index = 0;

  constructor(private readonly addresses: readonly [ServerAddress, ...ServerAddress[]]) {}

  /** The address last reached (the first before any). */
  get current(): ServerAddress {
    return this.addresses[this.index]!;
  }

  /** The address left says it stops (bye SERVER_DRAINING): the next open begins at the one after it. */
  moveOn(): void {
    this.index = (this.index + 1) % this.addresses.length;
  }

  /**
   * Opens a socket to the address that last worked, or, if it cannot be reached, to the next that
   * can, in order; any other failure (a changed certificate, no TLS) stops at that address.
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
