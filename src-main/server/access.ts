/**
 * Who may use the room: the access mode for new accounts (with the room
 * passphrase, stored only as a scrypt hash), mutes (stored too: a restart lifts
 * none), the host's configurable limits, and the address form bans are stored under.
 */
import { isIP } from 'node:net';
import { type AccessMode, LIMITS } from '../../src-shared/protocol/limits.js';
import type { AsyncStore } from '../store/types.js';
import { hashPassword, verifyPassword } from './password.js';
import type { RoomClock } from './clock.js';

export interface AccessOptions {
  mode: AccessMode;
  /** Needed for mode 'passphrase'. */
  passphrase?: string;
}

export interface RoomLimits {
  maxGroupsPerOwner: number;
  maxGroupMembers: number;
  /** At most LIMITS.maxNameLength. */
  maxNameLength: number;
  /** At most LIMITS.maxGroupNameLength. */
  maxGroupNameLength: number;
  /** Accounts waiting for approval at once; more registrations are refused until the host answers. */
  maxPendingAccounts: number;
  /** New accounts per minute in the whole room (also the burst). */
  registrationsPerMinute: number;
  /** New accounts per minute from one address (an IPv6 /64 counts as one), also the burst. */
  addressRegistrationsPerMinute: number;
  /** Logins per minute of one account, token or password (also the burst). */
  loginsPerMinute: number;
  /** Edits, deletes and reactions per minute of one user (also the burst): each is pushed to every reader. */
  changesPerMinute: number;
  /** After a decline, how long before the declined person may ask again with an explicit chat request (PROTOCOL.md §6.3). */
  chatRequestCooldownMs: number;
  // Calls (issue 39, docs/PROTOCOL.md §21).
  /** Endpoints one voice call may hold: in a mesh each sends its audio to every other. */
  maxCallParticipants: number;
  /** Endpoints one video call may hold: each sends its video to every other. */
  maxVideoCallParticipants: number;
  /** How long a call rings with nobody joining before it ends as missed. */
  callRingMs: number;
  /** How long an endpoint whose connection closed stays in its call, for its client to come back (callJoin with it). */
  callReconnectGraceMs: number;
  /** Signals (callSignal) one connection may send per second, and at once. */
  callSignalsPerSecond: number;
  callSignalBurst: number;
}

export const DEFAULT_ROOM_LIMITS: RoomLimits = {
  maxGroupsPerOwner: 20,
  maxGroupMembers: 100,
  maxNameLength: LIMITS.maxNameLength,
  maxGroupNameLength: LIMITS.maxGroupNameLength,
  maxPendingAccounts: 50,
  registrationsPerMinute: 30,
  addressRegistrationsPerMinute: 5,
  // Several devices reconnecting at once after a host restart stay far below it; cycling logins do not.
  loginsPerMinute: 20,
  // A person reacting and correcting in a lively chat stays below it; a script toggling a reaction does not.
  changesPerMinute: 60,
  // A day: a person who said no is not asked again the same day, and a misclick on Decline is not forever.
  chatRequestCooldownMs: 24 * 60 * 60 * 1000,
  // The mesh's limits as measured in Chromium (docs/BENCHMARKS.md, "Calls"): each endpoint encodes once per peer.
  maxCallParticipants: 8,
  maxVideoCallParticipants: 6,
  // Signal's and WhatsApp's ring is about as long.
  callRingMs: 45_000,
  // Longer than a reconnect's back-off takes to find the host again after a blip (client/reconnect.ts).
  callReconnectGraceMs: 30_000,
  // A group call's start: an offer and a dozen candidates to each of 7 others at once, then a trickle.
  callSignalsPerSecond: 50,
  callSignalBurst: 200,
};

export function roomLimits(given: Partial<RoomLimits> = {}): RoomLimits {
  const limits = { ...DEFAULT_ROOM_LIMITS, ...given };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`limit ${key} must be a whole number of at least 1`);
  }
  if (limits.maxNameLength > LIMITS.maxNameLength) throw new Error(`maxNameLength is at most ${LIMITS.maxNameLength}`);
  if (limits.maxGroupNameLength > LIMITS.maxGroupNameLength) {
    throw new Error(`maxGroupNameLength is at most ${LIMITS.maxGroupNameLength}`);
  }
  return limits;
}

const MODE_SETTING = 'access.mode';
const PASSPHRASE_SETTING = 'access.passphraseHash';
/**
 * One setting per muted user, under this prefix and the user id: when the mute ends (ms epoch),
 * FOREVER until lifted, or '' once lifted. Nodes sharing a store each write only the users they change.
 */
const MUTE_SETTING = 'access.mute.';
const FOREVER = 'forever';

/** The host part of a "host:port" or "[v6]:port" remote address, as bans store it. */
export function addressHost(remoteAddress: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(remoteAddress);
  const colons = remoteAddress.split(':').length - 1;
  const host = bracketed
    ? bracketed[1]!
    : colons === 1
      ? remoteAddress.slice(0, remoteAddress.lastIndexOf(':'))
      : remoteAddress;
  return normalizeAddress(host) ?? host.toLowerCase();
}

/**
 * The key every throttle counts a remote address under: the IP address, but an IPv6 /64 as
 * one (one machine or one home network gets a whole /64 and can use any address in it).
 */
export function throttleAddress(remoteAddress: string): string {
  const host = addressHost(remoteAddress);
  if (isIP(host) !== 6) return host;
  const [head = '', tail = ''] = host.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = host.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Canonical form of an IP address typed by the host; undefined when it is not one. */
export function normalizeAddress(raw: string): string | undefined {
  let address = raw.trim().toLowerCase();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) address = address.slice(7);
  return isIP(address) ? address : undefined;
}

export class RoomAccess {
  private modeInForce: AccessMode = 'open';
  private passphraseHash: string | null = null;
  /** Muted user ids and when the mute ends (Infinity: until unmuted). */
  private readonly mutes = new Map<number, number>();
  /** The last change of the stored mutes: each waits for the one before, so a user's last change is stored last. */
  private mutesSaved: Promise<void> = Promise.resolve();
  /** Users whose mute another node changed while the stored mutes were read: what was read of them is older. */
  private heardWhileLoading: Set<number> | null = new Set();
  /** Settles once the configured mode is in force and the stored mutes are read; the host listens after it. */
  ready: Promise<void>;

  constructor(
    private readonly store: AsyncStore,
    private readonly clock: RoomClock,
    options: AccessOptions | undefined,
    private readonly passwordCost: number | undefined,
  ) {
    this.ready = Promise.all([this.configure(options), this.loadMutes()]).then(() => undefined);
  }

  get mode(): AccessMode {
    return this.modeInForce;
  }

  /**
   * Puts a mode in force and saves it, so a host restarted without one keeps it.
   * Without options, the saved mode applies (open when none was ever saved).
   */
  configure(options: AccessOptions | undefined): Promise<void> {
    if (options?.mode === 'passphrase' && !options.passphrase) throw new Error('the passphrase access mode needs a passphrase');
    const task = (async () => {
      if (!options) {
        const saved = (await this.store.roomSetting(MODE_SETTING)) as AccessMode | undefined;
        this.modeInForce = saved ?? 'open';
        this.passphraseHash = (await this.store.roomSetting(PASSPHRASE_SETTING)) || null;
        return;
      }
      let hash = '';
      if (options.mode === 'passphrase') hash = await hashPassword(options.passphrase!, this.passwordCost);
      await this.store.setRoomSetting(MODE_SETTING, options.mode);
      await this.store.setRoomSetting(PASSPHRASE_SETTING, hash);
      this.modeInForce = options.mode;
      this.passphraseHash = hash || null;
    })();
    this.ready = task;
    return task;
  }

  async passphraseMatches(passphrase: string | undefined): Promise<boolean> {
    if (passphrase === undefined || this.passphraseHash === null) return false;
    return verifyPassword(passphrase, this.passphraseHash);
  }

  /** When the user's mute ends (ms epoch, Infinity for "until unmuted"), or null when not muted. */
  mutedUntil(userId: number, now = this.clock.now()): number | null {
    const until = this.mutes.get(userId);
    if (until === undefined) return null;
    if (until <= now) {
      this.mutes.delete(userId);
      return null;
    }
    return until;
  }

  /** The user ids muted now, with when each mute ends: the host's end timers are armed from them after a restart. */
  muted(now = this.clock.now()): [number, number][] {
    return [...this.mutes].filter(([, until]) => until > now);
  }

  /** Mutes until `until` (Infinity: until unmuted), once stored. */
  async mute(userId: number, until: number): Promise<void> {
    await this.storeMute(userId, until);
    this.mutes.set(userId, until);
  }

  /** Lifts the user's mute, once stored; whether there was one. */
  async unmute(userId: number): Promise<boolean> {
    if (!this.mutes.has(userId)) return false;
    await this.storeMute(userId, null);
    return this.mutes.delete(userId);
  }

  /** A mute (or null: a lift) that another node of the room made and stored: kept in memory only. */
  heardMute(userId: number, until: number | null): void {
    this.heardWhileLoading?.add(userId);
    if (until === null) this.mutes.delete(userId);
    else this.mutes.set(userId, until);
  }

  /** The stored mutes not ended; a setting that is not one (hand-edited, say) is no mute. */
  private async loadMutes(): Promise<void> {
    const now = this.clock.now();
    for (const { key, value } of await this.store.roomSettingsUnder(MUTE_SETTING)) {
      const userId = Number(key.slice(MUTE_SETTING.length));
      const until = value === FOREVER ? Infinity : Number(value);
      if (!Number.isSafeInteger(userId) || value === '' || !(until > now) || this.heardWhileLoading!.has(userId)) continue;
      this.mutes.set(userId, until);
    }
    this.heardWhileLoading = null;
  }

  private storeMute(userId: number, until: number | null): Promise<void> {
    const value = until === null ? '' : until === Infinity ? FOREVER : String(until);
    const save = this.mutesSaved.then(() => this.store.setRoomSetting(`${MUTE_SETTING}${userId}`, value));
    this.mutesSaved = save.catch(() => undefined);
    return save;
  }
}
