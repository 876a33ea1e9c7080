/**
 * Watching the local network for announced rooms (`_lanchat._tcp` over multicast DNS). A room
 * appears when its announcement arrives and disappears on its goodbye packets; a host that
 * vanished without a goodbye (crash, cable pulled) is dropped when it stops answering the
 * periodic queries.
 */
import type { Browser, Service } from 'bonjour-service';
import type { NearbyRoom } from '../../src-shared/api.js';
import { SERVICE_TYPE, decodeRoomTxt } from './txt.js';
import { DISCOVERY_OFF_REASON, closeBonjour, discoveryDisabled, openBonjour } from './mdns.js';

export interface WatchTiming {
  /** How often the network is asked again who is there. */
  requeryMs: number;
  /** A room that answered none of the queries of this long is gone. */
  forgetAfterMs: number;
  /** The previous query's listener stays this long, so a goodbye that crosses the new query is not missed. */
  overlapMs: number;
}

const TIMING: WatchTiming = { requeryMs: 10_000, forgetAfterMs: 25_000, overlapMs: 3_000 };
/** More rooms than a LAN plausibly hosts: past this, announcements of new ones are ignored, so a flood cannot grow the list without end. */
export const MAX_NEARBY_ROOMS = 50;

export interface RoomWatcher {
  /** The rooms found so far, in the order they appeared. */
  rooms(): NearbyRoom[];
  stop(): Promise<void>;
}

/**
 * Starts watching; `onChange` gets the whole list after every change. Returns why not
 * instead when discovery is off. Socket errors go to `onError`; the watcher then finds nothing.
 * `timing` is for tests, which cannot wait the real minute for a vanished room to age out.
 */
export function watchRooms(
  onChange: (rooms: NearbyRoom[]) => void,
  onError: (error: Error) => void,
  { requeryMs, forgetAfterMs, overlapMs }: WatchTiming = TIMING,
): RoomWatcher | { off: string } {
  if (discoveryDisabled()) return { off: DISCOVERY_OFF_REASON };
  const bonjour = openBonjour(onError);
  const found = new Map<string, { room: NearbyRoom; seen: number }>();
  const changed = (): void => onChange(list());
  const list = (): NearbyRoom[] => [...found.values()].map(({ room }) => ({ ...room }));

  const saw = (service: Service): void => {
    const room = nearbyRoom(service);
    const known = found.get(service.fqdn);
    if (!known && found.size >= MAX_NEARBY_ROOMS) return;
    if (room === null) {
      // A record that changed into something unreadable takes the room back.
      if (known && found.delete(service.fqdn)) changed();
      return;
    }
    found.set(service.fqdn, { room, seen: Date.now() });
    if (!known || JSON.stringify(known.room) !== JSON.stringify(room)) changed();
  };
  const gone = (service: Service): void => {
    if (found.delete(service.fqdn)) changed();
  };

  // bonjour-service's Browser reports each service once ('up') and never again while it lives,
  // so every query is a fresh Browser: each one that answers is seen anew.
  const browse = (): Browser => {
    const browser = bonjour.find({ type: SERVICE_TYPE, protocol: 'tcp' });
    browser.on('up', saw);
    browser.on('srv-update', saw);
    browser.on('txt-update', saw);
    browser.on('down', gone);
    return browser;
  };
  let current = browse();
  const retiring = new Set<NodeJS.Timeout>();
  const requery = setInterval(() => {
    const previous = current;
    current = browse();
    const timer = setTimeout(() => {
      retiring.delete(timer);
      previous.stop();
    }, overlapMs);
    retiring.add(timer);
    const cutoff = Date.now() - forgetAfterMs;
    let removed = false;
    for (const [fqdn, { seen }] of found) if (seen < cutoff) removed = found.delete(fqdn) || removed;
    if (removed) changed();
  }, requeryMs);

  return {
    rooms: list,
    stop: () => {
      clearInterval(requery);
      for (const timer of retiring) clearTimeout(timer);
      current.stop();
      return closeBonjour(bonjour);
    },
  };
}

/** The room an answer describes, or null when its TXT is not a LanChat room's. */
function nearbyRoom(service: Service): NearbyRoom | null {
  const txt = decodeRoomTxt(service.txt);
  // The address the answer came from is on this network; the host name may not resolve here.
  const address = service.referer?.address;
  if (txt === null || address === undefined || !service.port) return null;
  return {
    id: service.fqdn,
    roomName: txt.roomName,
    hostName: service.host.replace(/\.local\.?$/, ''),
    host: address,
    port: service.port,
    protocol: txt.protocol,
    tls: txt.tls,
    access: txt.access,
    fingerprint: txt.fingerprint,
  };
}
