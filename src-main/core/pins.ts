/**
 * Host certificate pins, trust on first use: the fingerprint each server
 * ("host:port") presented the first time, or "unencrypted" for a host the user
 * agreed to join without TLS. The app keeps one file per profile, the terminal
 * client its own. Beside the pins, the app remembers rooms by identity
 * (RoomNameFile): a name it knows at another fingerprint is an alarm, not a first use.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NearbyRoom } from '../../src-shared/api.js';
import { roomNamesLookAlike } from '../../src-shared/text.js';
import { answersWith } from '../client/transport.js';
import type { RoomTrust } from '../discovery/browse.js';
import { readJson, writeAtomically } from './profile-files.js';

export const UNENCRYPTED = 'unencrypted';
/** A certificate fingerprint, or UNENCRYPTED. */
export type Pin = string;

/** How pins and saved sessions name a server. */
export function serverKey(server: { host: string; port: number }): string {
  return `${server.host.toLowerCase()}:${server.port}`;
}

/** A JSON object of strings kept in a file of its own, replaced whole at each change. */
class StringMapFile {
  private values = new Map<string, string>();

  constructor(readonly file: string) {
    const stored = readJson(file);
    if (typeof stored !== 'object' || stored === null) return;
    for (const [key, value] of Object.entries(stored)) if (typeof value === 'string') this.values.set(key, value);
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  set(key: string, value: string): void {
    if (this.values.get(key) === value) return;
    this.replaceWith(new Map(this.values).set(key, value));
  }

  /** Every key with its value. */
  entries(): [string, string][] {
    return [...this.values];
  }

  /** Forgets the key; false when there was none. */
  delete(key: string): boolean {
    if (!this.values.has(key)) return false;
    const kept = new Map(this.values);
    kept.delete(key);
    this.replaceWith(kept);
    return true;
  }

  /** Written first: a file that could not be written leaves the map as it was. */
  private replaceWith(values: Map<string, string>): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeAtomically(this.file, Object.fromEntries(values), 0o600);
    this.values = values;
  }
}

/** Server key → Pin. */
export class PinFile extends StringMapFile {}

/**
 * The rooms the app has entered, by identity: certificate fingerprint → the room's name as its host
 * gave it (hello) the last time. Pins made before this file existed name no room until it is entered
 * again; their fingerprints still count as known rooms.
 */
export class RoomNameFile extends StringMapFile {}

/** How long a room in the list gets to answer a handshake on its address. */
const ANSWER_TIMEOUT_MS = 3000;

/** The rooms this profile entered, by identity, from its pins and the names kept with them. */
export class KnownRooms implements RoomTrust {
  constructor(
    private readonly pins: PinFile,
    private readonly names: RoomNameFile,
  ) {}

  /** Whether a room of this certificate was entered before, at any address. */
  isKnown(fingerprint: string): boolean {
    return this.names.get(fingerprint) !== undefined || this.pins.entries().some(([, pin]) => pin === fingerprint);
  }

  /** A room entered before whose name looks like `roomName`, as its fingerprint and name; null when none. */
  like(roomName: string): { fingerprint: string; roomName: string } | null {
    const found = this.names.entries().find(([, known]) => roomNamesLookAlike(known, roomName));
    return found ? { fingerprint: found[0], roomName: found[1] } : null;
  }

  /**
   * The room entered before that a room at an address not entered before would pass for: one of the
   * `names` it calls itself looks like that room's, under a certificate not known here. Null when there is
   * none, or when `confirmed` (the user said it is a different room).
   */
  passesFor(names: readonly (string | undefined)[], fingerprint: string | null, confirmed: boolean): { claimed: string; fingerprint: string } | null {
    if (confirmed || (fingerprint !== null && this.isKnown(fingerprint))) return null;
    for (const claimed of names) {
      if (claimed === undefined) continue;
      const known = this.like(claimed);
      if (known) return { claimed, fingerprint: known.fingerprint };
    }
    return null;
  }

  /**
   * 'known': the room's address presented the fingerprint it announces when the app entered the room;
   * 'verify': it claims a known room's fingerprint at another address; 'lookalike': named like a known room.
   */
  identify(room: NearbyRoom): NearbyRoom['identity'] | 'verify' {
    if (room.fingerprint !== null && this.pins.get(serverKey(room)) === room.fingerprint) return 'known';
    if (room.fingerprint !== null && this.isKnown(room.fingerprint)) return 'verify';
    return this.like(room.roomName) ? 'lookalike' : undefined;
  }

  answers(room: NearbyRoom): Promise<boolean> {
    return room.fingerprint === null ? Promise.resolve(false) : answersWith(room.host, room.port, room.fingerprint, ANSWER_TIMEOUT_MS);
  }
}
