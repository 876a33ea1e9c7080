/**
 * Announcing a hosted room on the local network as a DNS-SD service `_lanchat._tcp` over
 * multicast DNS, and taking it back with goodbye packets when the room stops.
 */
import { hostname } from 'node:os';
import { type RoomTxt, SERVICE_TYPE, encodeRoomTxt } from './txt.js';
import { DISCOVERY_OFF_REASON, closeBonjour, discoveryDisabled, openBonjour } from './mdns.js';

export interface Announcement {
  /** The DNS-SD service instance name, unique on the network: this machine's name and the port. */
  instance: string;
  /** Sends the goodbye packets and closes the multicast socket. */
  stop(): Promise<void>;
}

/**
 * Starts announcing; returns why not instead when discovery is off. Failures of the network
 * later (no multicast route, port 5353 refused) go to `onError` and leave the room running.
 */
export function announceRoom(
  room: RoomTxt & { port: number },
  onError: (error: Error) => void,
): Announcement | { off: string } {
  if (discoveryDisabled()) return { off: DISCOVERY_OFF_REASON };
  const bonjour = openBonjour(onError);
  const machine = machineLabel();
  const instance = `LanChat ${machine} ${room.port}`;
  const service = bonjour.publish({
    name: instance,
    // The SRV target and the A records' name: a multicast DNS name, which bonjour-service does not add itself.
    host: `${machine}.local`,
    type: SERVICE_TYPE,
    protocol: 'tcp',
    port: room.port,
    txt: encodeRoomTxt(room),
    disableIPv6: true,
  });
  let stopping: Promise<void> | null = null;
  return {
    instance,
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        // The goodbye is one multicast send; a socket that cannot send must not hold the room's stop.
        const timer = setTimeout(resolve, 1000);
        service.stop?.(() => {
          clearTimeout(timer);
          resolve();
        });
      }).then(() => closeBonjour(bonjour));
      return stopping;
    },
  };
}

/**
 * The machine's name as one DNS label, for the instance name (rooms on one machine differ by port,
 * machines by name) and the host name. Dots would end the label (bonjour-service does not escape
 * them), so they become dashes; the room's own name is in TXT.
 */
function machineLabel(): string {
  return hostname().split('.')[0]!.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';
}
