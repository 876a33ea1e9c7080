/**
 * Watching the local network for announced rooms (`_lanchat._tcp` over multicast DNS). A room
 * appears when its announcement arrives and disappears on its goodbye packets; a host that
 * vanished without a goodbye (crash, cable pulled) is dropped when it stops answering the
 * periodic queries. Anyone on the network can send those goodbyes, so a room the app knows
 * (RoomTrust) leaves the list only once it stops answering on its address.
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
  /** Tells `onChange` again: what the app knows of the rooms (RoomTrust) changed. */
  refresh(): void;
  stop(): Promise<void>;
}

/** What the app knows of rooms, from its own pins and names, never from an announcement alone. */
export interface RoomTrust {
  /**
   * NearbyRoom.identity as the app's records say; 'verify' for a room that claims the fingerprint of a
   * room the app entered at another address: `answers` decides.
   */
  identify(room: NearbyRoom): NearbyRoom['identity'] | 'verify';
  /** Whether the room's address answers with the room's fingerprint (a TLS handshake, nothing sent). */
  answers(room: NearbyRoom): Promise<boolean>;
}

interface Found {
  room: NearbyRoom;
  /** When an announcement, or for a known room a handshake, last showed it there. */
  seen: number;
  /** A goodbye came for it; a known room is checked instead of dropped. */
  doubted: boolean;
  /** When its address was last asked to answer (`RoomTrust.answers`), and whether it did. */
  asked: number;
  answered: boolean;
  asking: boolean;
}

/**
 * Starts watching; `onChange` gets the whole list after every change. Returns why not
 * instead when discovery is off. Socket errors go to `onError`; the watcher then finds nothing.
 * `timing` is for tests, which cannot wait the real minute for a vanished room to age out.
 * `trust` is what the app knows of rooms: without it no room is marked, and goodbyes are taken at their word.
 */
export function watchRooms(
  onChange: (rooms: NearbyRoom[]) => void,
  onError: (error: Error) => void,
  { requeryMs, forgetAfterMs, overlapMs }: WatchTiming = TIMING,
  trust: RoomTrust | null = null,
): RoomWatcher | { off: string } {
  if (discoveryDisabled()) return { off: DISCOVERY_OFF_REASON };
  const bonjour = openBonjour(onError);
  const found = new Map<string, Found>();
  let stopped = false;
  const changed = (): void => onChange(list());
  const identity = (entry: Found): NearbyRoom['identity'] => {
    const said = trust?.identify(entry.room);
    // Until its address answered with that certificate, a room claiming a known one's is a look-alike.
    return said === 'verify' ? (entry.answered ? 'known' : 'lookalike') : said;
  };
  const list = (): NearbyRoom[] =>
    [...found.values()].map((entry) => {
      const known = identity(entry);
      return { ...entry.room, ...(known ? { identity: known } : {}) };
    });

  /**
   * Asks the room's address to answer, at most once per re-query: a known room that does stays listed
   * (goodbyes and silence notwithstanding), one that does not goes.
   */
  const ask = (fqdn: string, entry: Found): void => {
    if (!trust || entry.asking || Date.now() - entry.asked < requeryMs) return;
    entry.asking = true;
    entry.asked = Date.now();
    void trust.answers(entry.room).then((answered) => {
      entry.asking = false;
      if (stopped || found.get(fqdn) !== entry) return;
      const before = identity(entry);
      entry.answered = answered;
      if (answered) {
        entry.seen = Date.now();
        entry.doubted = false;
      }
      if (!answered && (entry.doubted || identity(entry) === 'known')) found.delete(fqdn);
      else if (identity(entry) === before) return;
      changed();
    });
  };

  const saw = (service: Service): void => {
    const room = nearbyRoom(service);
    let key = service.fqdn;
    const holder = found.get(key);
    if (room !== null && holder && identity(holder) === 'known' && (holder.room.host !== room.host || holder.room.port !== room.port)) {
      // Another address answers for a known room's instance name (a later conflict, RFC 6762 §9, or an
      // impostor): the known room keeps its place, and the other is listed beside it as a room of its own.
      key = `${service.fqdn} ${room.host}:${room.port}`;
      room.id = key;
    }
    const known = found.get(key);
    if (!known && found.size >= MAX_NEARBY_ROOMS) return;
    if (room === null) {
      // A record that changed into something unreadable takes the room back.
      if (known && found.delete(key)) changed();
      return;
    }
    if (known && JSON.stringify(known.room) === JSON.stringify(room)) {
      known.seen = Date.now();
      known.doubted = false;
      return;
    }
    const entry: Found = { room, seen: Date.now(), doubted: false, asked: 0, answered: false, asking: false };
    found.set(key, entry);
    if (trust?.identify(room) === 'verify') ask(key, entry);
    changed();
  };
  const gone = (service: Service): void => {
    let removed = false;
    for (const [key, entry] of found) {
      if (key !== service.fqdn && !key.startsWith(`${service.fqdn} `)) continue;
      if (identity(entry) === 'known') {
        entry.doubted = true;
        ask(key, entry);
      } else {
        removed = found.delete(key) || removed;
      }
    }
    if (removed) changed();
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
    for (const [fqdn, entry] of found) {
      if (identity(entry) === 'known') {
        if (entry.doubted || entry.seen < cutoff) ask(fqdn, entry);
      } else if (entry.seen < cutoff) {
        removed = found.delete(fqdn) || removed;
      }
    }
    if (removed) changed();
  }, requeryMs);

  return {
    rooms: list,
    refresh: changed,
    stop: () => {
      stopped = true;
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
