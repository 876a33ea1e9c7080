/**
 * What one device knows of every user's devices, and which users it has verified (docs/SECURITY.md
 * "Verification"): the devices it has seen itself, in key packages it claimed (their signed credentials)
 * and in the members of every group it processed (commits and welcomes, which every member agrees on).
 * Safety numbers are computed from those; a change to a known user's set is told to `onChange`, so a
 * host that registers a device in someone's name and gets it added to a conversation cannot hide it.
 * Users are named by id, as credentials name them. EncryptedChats (e2ee.ts) saves it with the device.
 */
import { type ClaimedDevice, E2EE_LIMITS } from '../../src-shared/protocol/e2ee.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { type DeviceId, type Group, memberKeys, signedKeyPackage } from '../crypto/mls.js';
import { type SafetyNumber, safetyNumber, sameCode } from '../crypto/safety-number.js';
import type { ChatClient } from './client.js';
import { ClientError } from './errors.js';

export interface DevicesChanged {
  userId: number;
  added: DeviceId[];
  removed: DeviceId[];
  /** This device's encrypted conversations whose group holds a device of the user, sorted. */
  conversations: string[];
}

export type Verification = 'verified' | 'unverified' | 'changed';

/** How the device store keeps it (JSON, keys in base64). */
export interface SavedKnownDevices {
  /** userId → deviceId → signature key. */
  devices: Record<string, Record<string, string>>;
  /** userId → the user's keys when marked verified (sorted, base64, joined by commas). */
  verified: Record<string, string>;
  introduced: number[];
}

export const bytes = (base64: string): Uint8Array => new Uint8Array(Buffer.from(base64, 'base64'));
export const base64 = (value: Uint8Array): string => Buffer.from(value).toString('base64');
/** Claims in flight at once: a group of many is not one round trip per member, one after another; far inside the frame burst (PROTOCOL §5.6). */
const CLAIMS_AT_ONCE = 8;
/** A user's device keys as one comparable text: sorted, so it does not depend on the order they were seen in. */
const keySet = (keys: Iterable<Uint8Array>): string => [...keys].map((key) => base64(key)).sort().join(',');

/** The devices of `users` that the host can hand a key package for (`deviceList`, in pages): name key → their ids. */
export async function addableDevices(client: ChatClient, users: readonly string[]): Promise<Map<string, string[]>> {
  const listed = new Map<string, string[]>();
  for (let at = 0; at < users.length; at += E2EE_LIMITS.maxListedUsers) {
    const page = await client.request('deviceList', { users: users.slice(at, at + E2EE_LIMITS.maxListedUsers) });
    for (const { user, devices } of page.users) listed.set(nameKey(user), devices.filter((device) => device.addable).map((device) => device.deviceId));
  }
  return listed;
}

export class KnownDevices {
  /** userId → deviceId → signature key. */
  private readonly known = new Map<number, Map<string, Uint8Array>>();
  /** userId → keySet of the user's devices when marked verified. */
  private readonly verified = new Map<number, string>();
  /** Users whose devices this device has seen in a claim or a group: a change is a change only after that first sight. */
  private readonly introduced = new Set<number>();

  constructor(
    private readonly self: DeviceId,
    /** The groups this device is in now, by conversation. */
    private readonly groups: () => [string, Group][],
    private readonly onChange: (changed: DevicesChanged) => void,
  ) {}

  /** The devices of the user this device has seen itself (its own user's included), by device id. */
  devices(userId: number): { deviceId: string; signatureKey: Uint8Array }[] {
    return [...(this.known.get(userId) ?? new Map<string, Uint8Array>())].map(([deviceId, signatureKey]) => ({ deviceId, signatureKey })).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  }

  /**
   * The safety number of this user and `userId` (a contact, or this user for their own devices), from the
   * devices of both this device has seen. Throws when it has seen none of the contact's: an encrypted
   * conversation with them comes first.
   */
  async safetyNumber(userId: number): Promise<SafetyNumber> {
    const theirs = this.known.get(userId);
    if (theirs === undefined || theirs.size === 0) throw new Error(`no device of user ${userId} is known here yet: start an encrypted conversation with them first`);
    const side = (id: number, keys: Iterable<Uint8Array>) => ({ stableId: new TextEncoder().encode(String(id)), keys: [...keys] });
    return safetyNumber(side(this.self.userId, this.known.get(this.self.userId)!.values()), side(userId, theirs.values()));
  }

  /** Whether a code scanned or pasted from the contact's screen is the safety number this device computes. */
  async matchesSafetyCode(userId: number, code: string): Promise<boolean> {
    return sameCode(await this.safetyNumber(userId), code);
  }

  /** Marks the user verified with the devices known now (after comparing the safety number). */
  markVerified(userId: number): void {
    const theirs = this.known.get(userId);
    if (theirs === undefined || theirs.size === 0) throw new Error(`no device of user ${userId} is known here yet`);
    this.verified.set(userId, keySet(theirs.values()));
  }

  clearVerified(userId: number): void {
    this.verified.delete(userId);
  }

  verification(userId: number): Verification {
    const marked = this.verified.get(userId);
    if (marked === undefined) return 'unverified';
    return marked === keySet(this.known.get(userId)?.values() ?? []) ? 'verified' : 'changed';
  }

  /** Adds a device seen in a claimed key package or a group; whether it was new. */
  learn(id: DeviceId, signatureKey: Uint8Array): boolean {
    let devices = this.known.get(id.userId);
    if (devices === undefined) this.known.set(id.userId, (devices = new Map()));
    const before = devices.get(id.deviceId);
    if (before !== undefined && Buffer.from(before).equals(signatureKey)) return false;
    devices.set(id.deviceId, signatureKey);
    return true;
  }

  /** What a group's members (after a commit or welcome this device processed) teach about each user's devices. */
  learnFromGroup(group: Group): void {
    const added = new Map<number, DeviceId[]>();
    const members = memberKeys(group);
    for (const member of members) {
      if (this.learn(member.id, member.signatureKey) && this.introduced.has(member.id.userId)) added.set(member.id.userId, [...(added.get(member.id.userId) ?? []), member.id]);
    }
    for (const member of members) this.introduced.add(member.id.userId);
    for (const [userId, devices] of added) this.changed(userId, devices, []);
  }

  /**
   * What a claim teaches: the devices whose key packages carry their credential and key (`verified`), and
   * which devices the host still lists (`listed`). A device the host no longer lists and that is in none
   * of this device's groups is gone; one still in a group stays, whatever the host says.
   */
  learnFromClaim(userId: number, verified: readonly { id: DeviceId; signatureKey: Uint8Array }[], listed: ReadonlySet<string>): void {
    const firstSight = !this.introduced.has(userId);
    this.introduced.add(userId);
    const added = verified.filter((device) => this.learn(device.id, device.signatureKey)).map((device) => device.id);
    const inGroups = new Set(this.groups().flatMap(([, group]) => memberKeys(group).filter((member) => member.id.userId === userId).map((member) => member.id.deviceId)));
    const devices = this.known.get(userId);
    const removed: DeviceId[] = [];
    for (const deviceId of devices?.keys() ?? []) {
      if (listed.has(deviceId) || inGroups.has(deviceId) || deviceId === this.self.deviceId) continue;
      devices!.delete(deviceId);
      removed.push({ userId, deviceId });
    }
    if (!firstSight && (added.length > 0 || removed.length > 0)) this.changed(userId, added, removed);
  }

  /**
   * One key package per device of each user (but this one), checked to be that device's; devices with
   * none left are skipped. With `only` (a user as named in `users` → device ids), just those devices of that
   * user are claimed. What the host lists teaches this device of the users' devices. The claims go a few at
   * a time; their answers are taken in the users' order.
   */
  async claim(
    client: ChatClient,
    users: readonly string[],
    ownSpent?: (keyPackage: Uint8Array) => void,
    only?: ReadonlyMap<string, readonly string[]>,
  ): Promise<{ user: string; deviceId: string; keyPackage: Uint8Array }[]> {
    const claimed: { user: string; deviceId: string; keyPackage: Uint8Array }[] = [];
    const answers: ClaimedDevice[][] = [];
    let next = 0;
    let failed = false;
    const claimNext = async (): Promise<void> => {
      try {
        for (let index = next++; index < users.length && !failed; index = next++) {
          const user = users[index]!;
          const devices = only?.get(user);
          answers[index] = (await client.request('keyPackagesClaim', devices ? { user, devices: [...devices] } : { user })).devices;
        }
      } catch (error) {
        // As one after another: a claim that fails stops the rest, which would spend others' packages for nothing.
        failed = true;
        throw error;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CLAIMS_AT_ONCE, users.length) }, claimNext));
    for (const [index, user] of users.entries()) {
      const devices = answers[index]!;
      const verified: { id: DeviceId; signatureKey: Uint8Array }[] = [];
      for (const device of devices) {
        if (device.keyPackage === undefined) continue;
        const keyPackage = bytes(device.keyPackage);
        const found = await signedKeyPackage(keyPackage);
        const matches = found !== undefined && found.device.deviceId === device.deviceId && Buffer.from(found.signatureKey).equals(bytes(device.signatureKey));
        if (!matches) continue;
        // All of one answer's devices are one user's: a package naming two users is not taken.
        if (verified.length > 0 && verified[0]!.id.userId !== found.device.userId) continue;
        verified.push({ id: found.device, signatureKey: found.signatureKey });
        // This device's own package, handed out too when its user is claimed, is spent all the same.
        if (device.deviceId !== this.self.deviceId) claimed.push({ user, deviceId: device.deviceId, keyPackage });
        else ownSpent?.(keyPackage);
      }
      if (verified.length > 0) this.learnFromClaim(verified[0]!.id.userId, verified, new Set(devices.map((device) => device.deviceId)));
    }
    return claimed;
  }

  /**
   * This user's other devices, each with a key package, for a group this device makes: claimed by their ids
   * (`deviceList` first), as a claim of the user whole would spend one of this device's own packages too. From
   * a host without `deviceList`, that whole claim (`ownSpent` told of this device's package).
   */
  async claimOwnOthers(client: ChatClient, me: string, ownSpent: (keyPackage: Uint8Array) => void): Promise<{ user: string; deviceId: string; keyPackage: Uint8Array }[]> {
    const listed = await addableDevices(client, [me]).catch((error: unknown) => {
      if (error instanceof ClientError && error.code === ErrorCode.UNKNOWN_TYPE) return undefined;
      throw error;
    });
    if (listed === undefined) return this.claim(client, [me], ownSpent);
    const others = (listed.get(nameKey(me)) ?? []).filter((deviceId) => deviceId !== this.self.deviceId);
    return others.length === 0 ? [] : this.claim(client, [me], ownSpent, new Map([[me, others]]));
  }

  private changed(userId: number, added: DeviceId[], removed: DeviceId[]): void {
    const conversations = this.groups()
      .filter(([, group]) => memberKeys(group).some((member) => member.id.userId === userId))
      .map(([conv]) => conv)
      .sort();
    this.onChange({ userId, added, removed, conversations });
  }

  save(): SavedKnownDevices {
    return {
      devices: Object.fromEntries([...this.known].map(([userId, devices]) => [userId, Object.fromEntries([...devices].map(([id, key]) => [id, base64(key)]))])),
      verified: Object.fromEntries(this.verified),
      introduced: [...this.introduced],
    };
  }

  restore(saved: SavedKnownDevices): void {
    for (const [userId, devices] of Object.entries(saved.devices)) {
      this.known.set(Number(userId), new Map(Object.entries(devices).map(([id, key]) => [id, bytes(key)])));
    }
    for (const [userId, keys] of Object.entries(saved.verified)) this.verified.set(Number(userId), keys);
    for (const userId of saved.introduced) this.introduced.add(userId);
  }
}
