/**
 * Announcing a hosted room on the local network as a DNS-SD service `_lanchat._tcp` over
 * multicast DNS, and taking it back with goodbye packets when the room stops. The instance name is
 * probed first and, when another answers to it, renamed "… (2)", "… (3)" (RFC 6762 §8.1 and §9,
 * RFC 6763 §4.1): bonjour-service 1.4.4 probes, but on a conflict only stops the service and writes
 * to the console, so the probe is done here and the name published without the library's.
 */
import { hostname } from 'node:os';
import { type RoomTxt, SERVICE_TYPE, encodeRoomTxt } from './txt.js';
import { DISCOVERY_OFF_REASON, type MdnsRecord, type MulticastDns, closeBonjour, discoveryDisabled, multicastDns, openBonjour } from './mdns.js';

export interface Announcement {
  /** The DNS-SD service instance name: this machine's name and the port, renamed "… (n)" when another took it. */
  instance: string;
  /** The names found taken on the network before `instance`, in the order tried; empty when the first was free. */
  taken: string[];
  /** Sends the goodbye packets and closes the multicast socket. */
  stop(): Promise<void>;
}

/** Names tried before giving up: the first and "(2)" to "(9)". */
const MAX_NAMES = 9;
/** RFC 6762 §8.1: three probes, 250 ms apart, after a random wait of up to 250 ms. */
const PROBES = 3;
const PROBE_INTERVAL_MS = 250;

/**
 * Starts announcing once the probes found a free name; resolves with why not instead when discovery
 * is off or every name tried is taken. Failures of the network later (no multicast route, port 5353
 * refused) go to `onError` and leave the room running.
 */
export async function announceRoom(
  room: RoomTxt & { port: number },
  onError: (error: Error) => void,
): Promise<Announcement | { off: string }> {
  if (discoveryDisabled()) return { off: DISCOVERY_OFF_REASON };
  const bonjour = openBonjour(onError);
  const machine = machineLabel();
  const base = `LanChat ${machine} ${room.port}`;
  const taken: string[] = [];
  let instance: string | null = null;
  for (let n = 1; n <= MAX_NAMES && instance === null; n++) {
    const candidate = n === 1 ? base : `${base} (${n})`;
    if (await nameTaken(multicastDns(bonjour), `${candidate}._${SERVICE_TYPE}._tcp.local`)) taken.push(candidate);
    else instance = candidate;
  }
  if (instance === null) {
    await closeBonjour(bonjour);
    return { off: `the names "${base}" to "${base} (${MAX_NAMES})" are all taken on the local network` };
  }
  const service = bonjour.publish({
    name: instance,
    // The SRV target and the A records' name: a multicast DNS name, which bonjour-service does not add itself.
    host: `${machine}.local`,
    type: SERVICE_TYPE,
    protocol: 'tcp',
    port: room.port,
    txt: encodeRoomTxt(room),
    disableIPv6: true,
    probe: false,
  });
  let stopping: Promise<void> | null = null;
  return {
    instance,
    taken,
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

/** Whether anyone answers for `fqdn` while it is probed: then it is another's. */
function nameTaken(mdns: MulticastDns, fqdn: string): Promise<boolean> {
  const wanted = fqdn.toLowerCase();
  return new Promise((resolve) => {
    let sent = 0;
    let timer: NodeJS.Timeout;
    const names = (record: MdnsRecord): boolean => record.name.toLowerCase() === wanted;
    const onResponse = (packet: { answers: MdnsRecord[]; additionals?: MdnsRecord[] }): void => {
      if (packet.answers.some(names) || (packet.additionals ?? []).some(names)) done(true);
    };
    const done = (isTaken: boolean): void => {
      clearTimeout(timer);
      mdns.removeListener('response', onResponse);
      resolve(isTaken);
    };
    const send = (): void => {
      if (sent++ === PROBES) return done(false);
      mdns.query([{ name: fqdn, type: 'ANY' }]);
      timer = setTimeout(send, PROBE_INTERVAL_MS);
    };
    mdns.on('response', onResponse);
    timer = setTimeout(send, Math.random() * PROBE_INTERVAL_MS);
  });
}

/**
 * The machine's name as one DNS label, for the instance name (rooms on one machine differ by port,
 * machines by name) and the host name. Dots would end the label (bonjour-service does not escape
 * them), so they become dashes; the room's own name is in TXT.
 */
function machineLabel(): string {
  return hostname().split('.')[0]!.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';
}
