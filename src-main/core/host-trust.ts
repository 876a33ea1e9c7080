/**
 * Which hosts this profile trusts: the pins, by address (pins.json: a certificate's fingerprint, or
 * UNENCRYPTED for a host the user let go without TLS), and the rooms entered before, by fingerprint,
 * with their names (rooms.json, `KnownRooms`). It decides what a join expects of the host's
 * certificate, whether the join may fall back to plain TCP, whether a room at an address not entered
 * before passes for one entered before (LOOKALIKE_ROOM), and records what a join that logged in saw.
 */
import { join } from 'node:path';
import { AppErrorCode, type ConnectionSecurity, type Result, type TrustedHost } from '../../src-shared/api.js';
import type { ClientOptions } from '../client/options.js';
import { LookalikeRoomError, fail, messageOf, ok } from './errors.js';
import { KnownRooms, PinFile, RoomNameFile, UNENCRYPTED } from './pins.js';

/** How to check the host: our own room's known certificate, or the pins with what the user just allowed. */
export type Trust =
  | { own: true; fingerprint: string | null }
  | {
      own: false;
      acceptFingerprint?: string | undefined;
      allowUnencrypted?: boolean | undefined;
      /** What the room announced on the network: expected only where nothing is pinned. */
      announcedFingerprint?: string | undefined;
      /** The name the room announced: compared with the rooms entered before, as hello's is. */
      announcedRoomName?: string | undefined;
      /** The user confirmed that a look-alike of a room entered before is another room (LOOKALIKE_ROOM). */
      differentRoom?: boolean | undefined;
    };

/** What one join expects of the host. */
export interface JoinCheck {
  /** What the address was pinned to before this join. */
  pinned: string | undefined;
  tls: boolean;
  fingerprint: string | undefined;
  checkRoom: ClientOptions['checkRoom'] | undefined;
  /** Whether the join may go on over plain TCP when the host offers no TLS. */
  plainAllowed: boolean;
  /** Records the host the join logged in to (its pin, its room's name); says how safe the connection is. */
  joined(fingerprint: string | null, roomName: string | undefined): ConnectionSecurity;
}

export class HostTrust {
  private readonly pins: PinFile;
  private readonly roomNames: RoomNameFile;
  /** The rooms entered before, by identity: what a look-alike is checked against, and what the room list marks. */
  readonly knownRooms: KnownRooms;

  constructor(profileDir: string) {
    this.pins = new PinFile(join(profileDir, 'pins.json'));
    this.roomNames = new RoomNameFile(join(profileDir, 'rooms.json'));
    this.knownRooms = new KnownRooms(this.pins, this.roomNames);
  }

  /** What a join to the address `key` expects of the host. */
  check(key: string, trust: Trust): JoinCheck {
    const pinned = trust.own ? undefined : this.pins.get(key);
    return {
      pinned,
      tls: !trust.own || trust.fingerprint !== null,
      fingerprint: trust.own
        ? (trust.fingerprint ?? undefined)
        : (trust.acceptFingerprint ?? (pinned === UNENCRYPTED ? undefined : pinned) ?? trust.announcedFingerprint),
      // An address not entered before: the room must not pass for one entered before (LOOKALIKE_ROOM).
      checkRoom: trust.own || pinned !== undefined ? undefined : this.lookalikeCheck(trust),
      plainAllowed: !trust.own && (trust.allowUnencrypted === true || pinned === UNENCRYPTED),
      joined: (fingerprint, roomName) => {
        // A room entered before at another address (a cluster's node, a new DHCP lease) is no first use;
        // nor is trusting a changed fingerprint, an explicit check already.
        const firstUse = !trust.own && pinned !== fingerprint && trust.acceptFingerprint !== fingerprint && !(fingerprint !== null && this.knownRooms.isKnown(fingerprint));
        if (!trust.own) this.savePin(key, fingerprint ?? UNENCRYPTED);
        if (!trust.own && fingerprint !== null && roomName !== undefined) this.saveRoomName(fingerprint, roomName);
        return fingerprint !== null ? { encrypted: true, fingerprint, firstUse } : { encrypted: false };
      },
    };
  }

  /** What the address `key` is pinned to, if anything. */
  pinOf(key: string): string | undefined {
    return this.pins.get(key);
  }

  /** The hosts this profile trusts, by server key. */
  hosts(): TrustedHost[] {
    return this.pins
      .entries()
      .map(([server, pin]) => {
        const fingerprint = pin === UNENCRYPTED ? null : pin;
        return { server, fingerprint, roomName: fingerprint === null ? null : (this.roomNames.get(fingerprint) ?? null) };
      })
      .sort((a, b) => a.server.localeCompare(b.server));
  }

  /**
   * Forgets a host's pin, and its room's name once no address is pinned to that room; the connection
   * open to it, if any, stays as it is.
   */
  forget(server: string): Result<void> {
    const pin = this.pins.get(server);
    if (pin === undefined || !this.pins.delete(server)) return fail(AppErrorCode.INVALID_ARGUMENT, `${server} is not a host this app trusts`);
    if (!this.pins.entries().some(([, other]) => other === pin)) this.roomNames.delete(pin);
    return ok(undefined);
  }

  /**
   * Refuses a room that calls itself (in hello, or in its announcement) like a room entered before and
   * presents a certificate of no room entered before; unless the user confirmed it is another room,
   * for the fingerprint they accepted (without TLS, for this join).
   */
  private lookalikeCheck(trust: Trust & { own: false }): (room: { name: string; fingerprint: string | null }) => Error | null {
    return ({ name: roomName, fingerprint }) => {
      const confirmed = trust.differentRoom === true && (fingerprint === null || fingerprint === trust.acceptFingerprint);
      const like = this.knownRooms.passesFor([roomName, trust.announcedRoomName], fingerprint, confirmed);
      return like ? new LookalikeRoomError(like.claimed, like.fingerprint, fingerprint) : null;
    };
  }

  private savePin(key: string, pin: string): void {
    try {
      this.pins.set(key, pin);
    } catch (error) {
      console.error(`lanchat: could not save the host's fingerprint: ${messageOf(error)}`);
    }
  }

  private saveRoomName(fingerprint: string, roomName: string): void {
    try {
      this.roomNames.set(fingerprint, roomName);
    } catch (error) {
      console.error(`lanchat: could not save the room's name with its fingerprint: ${messageOf(error)}`);
    }
  }
}
