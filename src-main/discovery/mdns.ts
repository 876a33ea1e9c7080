/**
 * The one place that opens multicast DNS (through bonjour-service, which speaks DNS-SD over
 * multicast-dns). Socket trouble is reported to the caller instead of thrown, so a machine
 * without multicast still hosts and joins rooms by address.
 */
import { Bonjour } from 'bonjour-service';

/**
 * LANCHAT_DISCOVERY=off turns announcing and browsing off for the whole process: the test
 * suites set it so that nothing they start sends multicast on the machine's real network.
 */
export function discoveryDisabled(): boolean {
  return process.env.LANCHAT_DISCOVERY === 'off';
}

export const DISCOVERY_OFF_REASON = 'looking for rooms on the network is turned off (LANCHAT_DISCOVERY=off)';

/** A resource record as multicast-dns reads it. */
export interface MdnsRecord {
  name: string;
  type: string;
}

/** The multicast-dns socket wrapper bonjour-service keeps; it emits 'error' when port 5353 cannot be bound. */
export interface MulticastDns {
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'response', listener: (packet: { answers: MdnsRecord[]; additionals?: MdnsRecord[] }) => void): void;
  removeListener(event: 'response', listener: (packet: { answers: MdnsRecord[]; additionals?: MdnsRecord[] }) => void): void;
  query(questions: { name: string; type: string }[]): void;
}

/** The multicast-dns socket of a Bonjour instance, which bonjour-service does not expose. */
export function multicastDns(bonjour: Bonjour): MulticastDns {
  return (bonjour as unknown as { server: { mdns: MulticastDns } }).server.mdns;
}

export function openBonjour(onError: (error: Error) => void): Bonjour {
  // bonjour-service throws errors of answering a query unless given a callback.
  const bonjour = new Bonjour({}, onError);
  // …and leaves the socket's own 'error' event unhandled, which would end the process.
  multicastDns(bonjour).on('error', onError);
  return bonjour;
}

/** Destroys the instance, waiting at most a moment for its socket to close. */
export function closeBonjour(bonjour: Bonjour): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    bonjour.destroy(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
