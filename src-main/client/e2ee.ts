/**
 * End-to-end encrypted conversations over a ChatClient (docs/PROTOCOL.md §20): one device of the
 * logged-in user, its key packages, and its MLS group in each conversation it belongs to. The host
 * orders each conversation's frames by `seq`; this module applies them in that order and shows only
 * what decrypts and verifies, so a host that rewrites, replays or forges frames shows nothing.
 *
 * With a DeviceStore (e2ee-store.ts) the whole device is saved encrypted after every change, and `start`
 * restores it; without one a restart is a new device. `trust` (e2ee-devices.ts) holds what it has seen of
 * each user's devices, safety numbers and who is verified.
 *
 * For the app: `start(client, { store?, catchUp? })`; `create`, `add`, `removeUsers`, `send`, `members`,
 * `catchUp`, `receive`, `close`, `markVerified`, `clearVerified`; events 'message', 'joined', 'removed',
 * 'dropped' and 'devicesChanged'. Users are named by id here, as credentials and `dm:` keys name them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Device, type DeviceId, type Group, loadGroup, saveGroup, addMembers, createDevice, createGroup, createKeyPackage,
  encrypt, joinFromWelcome, members, receive, removeMembers, signatureKeys } from '../crypto/mls.js';
import { E2EE_LIMITS, type MlsFrame } from '../../src-shared/protocol/e2ee.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ChatClient } from './client.js';
import { type DevicesChanged, KnownDevices, type SavedKnownDevices, base64, bytes } from './e2ee-devices.js';
import { KeyPackageKeys, type SavedKeyPackage } from './e2ee-key-packages.js';
import type { DeviceStore } from './e2ee-store.js';
import { ClientError } from './errors.js';

export interface DecryptedMessage {
  conv: string;
  /** The device that signed it, from its MLS credential: never the host's `from`. */
  sender: DeviceId;
  text: string;
  frameId: number;
  seq: number;
}

export type E2eeEvents = {
  message: [DecryptedMessage];
  /** This device joined the conversation's group from a welcome. */
  joined: [{ conv: string }];
  /** A commit removed this device from the conversation's group. */
  removed: [{ conv: string }];
  /** A frame that did not decrypt or verify (tampered, replayed, forged, of an epoch this device never had): not shown. */
  dropped: [{ conv: string; seq: number; reason: string }];
  /**
   * A user's devices changed from those this device knew (this user's own included): show it in each of
   * `conversations` (those whose group has a device of the user), and the user's safety number changed.
   * Not fired the first time a user's devices are seen.
   */
  devicesChanged: [DevicesChanged];
};

/** 'verified': marked so, and the user's devices are those they were then; 'changed': marked so, and they changed since. */
export type { DevicesChanged, Verification } from './e2ee-devices.js';

export interface StartOptions {
  /** Where the device is kept between runs: restored from it when it holds one, made and saved there otherwise. */
  store?: DeviceStore;
  /** false: `start` does not fetch what was sent while the device was away; call `catchUp()` once the listeners are on. Default true. */
  catchUp?: boolean;
}

/** Tries of a commit that lost its epoch to another before the caller hears of it. */
const COMMIT_TRIES = 3;
const SYNC_PAGE = 100;

interface Conversation {
  group: Group;
  /** The last frame of the conversation this device processed, by its place and its id. */
  seq: number;
  frameId: number;
}

/** What a DeviceStore holds (JSON, bytes in base64): the whole device. */
interface SavedDevice extends SavedKnownDevices {
  version: 1;
  /** The user's name as the host spells it, and id. */
  user: string;
  userId: number;
  deviceId: string;
  signaturePublicKey: string;
  signaturePrivateKey: string;
  cursor: number;
  keyPackages: SavedKeyPackage[];
  conversations: { conv: string; seq: number; frameId: number; state: string }[];
}

export class EncryptedChats extends EventEmitter<E2eeEvents> {
  private readonly conversations = new Map<string, Conversation>();
  /** Each user's devices as this device saw them itself, their safety numbers and who is verified. */
  readonly trust: KnownDevices;
  /** Key packages uploaded and not yet used by a welcome. */
  private readonly bundles = new KeyPackageKeys();
  /** A top-up asked by keyPackagesLow is queued: more pushes meanwhile ask nothing more. */
  private lowTopUp = false;
  /** Conversations whose group another device made (it won a race, or this device saw frames of it): this one waits to be added, as another try would claim a key package of every device it names. */
  private readonly madeElsewhere = new Set<string>();
  /** The highest frame id processed from mlsSync. */
  private cursor = 0;
  private store: DeviceStore | undefined;
  /** Every change of state, one at a time: each operation reads the state the one before left. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onPush = (push: { frame: MlsFrame }): void => {
    void this.serially(() => this.process(push.frame));
  };
  /** Claims left this device few key packages (§20.3): one top-up queued at a time, however many pushes. */
  private readonly onLow = (push: { deviceId: string }): void => {
    if (push.deviceId !== this.id.deviceId || this.lowTopUp) return;
    this.lowTopUp = true;
    void this.serially(async () => {
      this.lowTopUp = false;
      await this.topUp();
    }).catch(() => undefined);
  };
  /** Back online after a drop: what was pushed meanwhile is fetched. */
  private readonly onOnline = (): void => void this.catchUp();

  private constructor(
    private readonly client: ChatClient,
    readonly device: Device,
    private readonly user: string,
  ) {
    super();
    this.trust = new KnownDevices(device.id, () => [...this.conversations].map(([conv, { group }]) => [conv, group]), (changed) => this.emit('devicesChanged', changed));
  }

  /**
   * Registers this device of the logged-in user (a new one, or the one `options.store` holds, which must
   * be of the same user), tops its key packages on the host up and catches up.
   */
  static async start(client: ChatClient, options: StartOptions = {}): Promise<EncryptedChats> {
    const saved = (await options.store?.load()) as SavedDevice | undefined;
    if (saved !== undefined && saved.version !== 1) throw new Error('the device store is of a newer LanChat');
    const me = client.session?.login.name;
    if (me === undefined) throw new ClientError('DISCONNECTED', 'not logged in');
    // Before registering: a device of one account is never registered to another.
    if (saved !== undefined && saved.user.toLowerCase() !== me.toLowerCase()) throw new Error(`the device store is ${saved.user}'s device, and this login is ${me}'s`);
    const deviceId = saved?.deviceId ?? randomBytes(16).toString('hex');
    // The user id goes into the credential: the key is registered first, and the host answers the id.
    const keys = saved === undefined ? await signatureKeys() : { publicKey: bytes(saved.signaturePublicKey), signKey: bytes(saved.signaturePrivateKey) };
    const registered = await client.request('deviceRegister', { deviceId, signatureKey: base64(keys.publicKey) });
    if (saved !== undefined && saved.userId !== registered.userId) {
      throw new Error(`the device store is of the account ${saved.user} had as user ${saved.userId}, and ${me} is user ${registered.userId} now`);
    }
    const device = await createDevice(registered.userId, deviceId, keys);
    const chats = new EncryptedChats(client, device, me);
    if (saved !== undefined) chats.restore(saved);
    chats.store = options.store;
    chats.trust.learn(device.id, device.signaturePublicKey);
    client.on('mls', chats.onPush);
    client.on('online', chats.onOnline);
    client.on('keyPackagesLow', chats.onLow);
    await chats.topUp(registered);
    if (options.catchUp !== false) await chats.catchUp();
    return chats;
  }

  get id(): DeviceId {
    return this.device.id;
  }

  /** Stops taking pushes; resolves once the work queued before has run and saved the device (close the client first, so that it ends soon). */
  close(): Promise<void> {
    this.client.off('mls', this.onPush);
    this.client.off('online', this.onOnline);
    this.client.off('keyPackagesLow', this.onLow);
    return this.queue.then(() => undefined);
  }

  /** Uploads key packages until the host holds E2EE_LIMITS.keepKeyPackages of this device's, and a last-resort one if it keeps one (`held`: what it said). */
  private async topUp(held?: { keyPackages: number; lastResort?: boolean | undefined }): Promise<void> {
    held ??= await this.client.request('deviceRegister', { deviceId: this.id.deviceId, signatureKey: base64(this.device.signaturePublicKey) });
    const missing = E2EE_LIMITS.keepKeyPackages - held.keyPackages;
    // A host older than last-resort packages says nothing of them, and would refuse one.
    await (missing > 0 || held.lastResort === false ? this.uploadKeyPackages(Math.max(1, missing), held.lastResort !== undefined) : this.save());
  }

  /** Uploads `count` key packages and, if asked, a new last-resort one (a welcome for the one it replaces still opens); their keys kept first. */
  async uploadKeyPackages(count: number, withLastResort: boolean): Promise<number> {
    const made = await Promise.all(Array.from({ length: count + Number(withLastResort) }, () => createKeyPackage(this.device)));
    const lastResort = withLastResort ? made.pop() : undefined;
    this.bundles.add(made, lastResort);
    await this.save();
    const upload = { deviceId: this.id.deviceId, keyPackages: made.map((bundle) => base64(bundle.encoded)), ...(lastResort && { lastResort: base64(lastResort.encoded) }) };
    return (await this.client.request('keyPackagesUpload', upload)).keyPackages;
  }

  /** Marks the user verified with the devices known now (after comparing the safety number); saved with the device. */
  markVerified(userId: number): Promise<void> {
    return this.serially(async () => this.trust.markVerified(userId));
  }

  /** Forgets a verification (the user asked to, or re-verifies later). */
  clearVerified(userId: number): Promise<void> {
    return this.serially(async () => this.trust.clearVerified(userId));
  }

  /** The devices in the conversation's group as this device knows it; undefined when it is in none. */
  members(conv: string): DeviceId[] | undefined {
    const found = this.conversations.get(conv);
    return found && members(found.group);
  }

  /**
   * Makes the conversation's group with every device of `users` (and this user's other devices) that has a key
   * package; throws, spending none of this user's, if `users` are named and none of theirs has one. When another
   * device's group won the race, this one joins it instead (from the welcome, if added; 'joined' says so).
   */
  create(conv: string, users: readonly string[]): Promise<void> {
    return this.serially(async () => {
      const me = this.client.session?.login.name;
      if (me === undefined) throw new ClientError('DISCONNECTED', 'not logged in');
      if (this.madeElsewhere.has(conv)) return;
      const theirs = await this.trust.claim(this.client, users);
      if (users.length > 0 && theirs.length === 0) throw new Error(`no device of ${users.join(', ')} can be added now`);
      // An older host's claim of this user spends one of this device's own packages too: its private keys go, another is uploaded.
      const mine = await this.trust.claimOwnOthers(this.client, me, (spent) => this.bundles.spend(spent));
      void this.serially(() => this.topUp()).catch(() => undefined);
      const claimed = [...mine, ...theirs];
      if (claimed.length === 0) throw new Error('no other device of yours can be added now');
      const added = await addMembers(await createGroup(this.device, new TextEncoder().encode(conv)), claimed.map((device) => device.keyPackage));
      try {
        const { frame } = await this.client.request('mlsCommit', {
          conv,
          deviceId: this.id.deviceId,
          commit: base64(added.commit),
          welcome: base64(added.welcome),
          added: claimed.map(({ user, deviceId }) => ({ user, deviceId })),
        });
        this.conversations.set(conv, { group: added.group, seq: frame.seq, frameId: frame.id });
        this.trust.learnFromGroup(added.group);
      } catch (error) {
        if (!isEpochTaken(error)) throw error;
        // Another device's group came first: ours never existed for anyone else.
        this.madeElsewhere.add(conv);
        await this.catchUpNow();
      }
    });
  }

  /** Adds every device of the users with a key package, or of a user `only` names those (after losing an epoch, again on the new one); resolves with how many had one, now all in the group. */
  async add(conv: string, users: readonly string[], only?: ReadonlyMap<string, readonly string[]>): Promise<number> {
    let count = 0;
    await this.commit(conv, async (group) => {
      const present = new Set(members(group).map((id) => id.deviceId));
      const all = await this.trust.claim(this.client, users, (spent) => this.bundles.spend(spent), only);
      count = all.length;
      const claimed = all.filter((device) => !present.has(device.deviceId));
      if (claimed.length === 0) return null;
      const added = await addMembers(group, claimed.map((device) => device.keyPackage));
      return { ...added, added: claimed.map(({ user, deviceId }) => ({ user, deviceId })) };
    });
    return count;
  }

  /** Removes every device of the users (by user id, as credentials name them) from the conversation's group. */
  removeUsers(conv: string, userIds: readonly number[]): Promise<void> {
    return this.commit(conv, async (group) => {
      const leaving = members(group).filter((id) => userIds.includes(id.userId));
      return leaving.length === 0 ? null : removeMembers(group, leaving);
    });
  }

  /**
   * Encrypts and sends; resolves with the frame as the host stored it, and whether another reader's session
   * got it. `files`: the host's ids of the sealed files the message carries; `deleteFiles`: those of this
   * user's earlier messages it deletes (PROTOCOL §20.6).
   */
  send(conv: string, text: string, clientMsgId: string = randomUUID(), files: { files?: string[]; deleteFiles?: string[] } = {}): Promise<{ frame: MlsFrame; delivered: boolean }> {
    return this.serially(async () => {
      const current = this.joined(conv);
      const sent = await encrypt(current.group, new TextEncoder().encode(text));
      // The sending generation is spent whether or not the host takes it, and saved before it leaves: a device restored from an older state would reuse its key and nonce.
      current.group = sent.group;
      await this.save();
      const { frame, delivered } = await this.client.request('mlsSend', { conv, deviceId: this.id.deviceId, clientMsgId, data: base64(sent.message), ...files });
      await this.fill(conv, current, frame.seq);
      current.seq = Math.max(current.seq, frame.seq);
      current.frameId = Math.max(current.frameId, frame.id);
      return { frame, delivered };
    });
  }

  /** Fetches and processes every frame after the cursor. */
  catchUp(): Promise<void> {
    return this.serially(() => this.catchUpNow());
  }

  /** A frame as a push delivers it (the host's or anyone's): processed in its conversation's order, shown only if it verifies. */
  receive(frame: MlsFrame): Promise<void> {
    return this.serially(() => this.process(frame));
  }

  /** Runs `work` after every change before it, and saves the device once it has run, whether it succeeded or not. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      try {
        return await work();
      } finally {
        await this.save();
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async save(): Promise<void> {
    if (this.store === undefined) return;
    const saved: SavedDevice = {
      version: 1,
      user: this.user,
      userId: this.id.userId,
      deviceId: this.id.deviceId,
      signaturePublicKey: base64(this.device.signaturePublicKey),
      signaturePrivateKey: base64(this.device.signaturePrivateKey),
      cursor: this.cursor,
      keyPackages: this.bundles.save(),
      conversations: [...this.conversations].map(([conv, { group, seq, frameId }]) => ({ conv, seq, frameId, state: base64(saveGroup(group)) })),
      ...this.trust.save(),
    };
    await this.store.save(saved);
  }

  private restore(saved: SavedDevice): void {
    this.cursor = saved.cursor;
    this.bundles.restore(saved.keyPackages);
    for (const { conv, seq, frameId, state } of saved.conversations) this.conversations.set(conv, { group: loadGroup(this.device, bytes(state)), seq, frameId });
    this.trust.restore(saved);
  }


  private joined(conv: string): Conversation {
    const found = this.conversations.get(conv);
    if (found === undefined) throw new Error(`this device is in no encrypted group for ${conv}`);
    return found;
  }

  /**
   * Makes a commit with `make` on the current state and has the host order it. The next state is
   * used only once the host accepted the commit; when another commit took the epoch, this device
   * drops its own, processes the winner and makes the commit again on the new epoch (PROTOCOL §20.5).
   */
  private commit(
    conv: string,
    make: (group: Group) => Promise<{ group: Group; commit: Uint8Array; welcome?: Uint8Array; added?: { user: string; deviceId: string }[] } | null>,
  ): Promise<void> {
    return this.serially(async () => {
      for (let attempt = 1; ; attempt++) {
        const current = this.joined(conv);
        const made = await make(current.group);
        if (made === null) return;
        try {
          const { frame } = await this.client.request('mlsCommit', {
            conv,
            deviceId: this.id.deviceId,
            commit: base64(made.commit),
            ...(made.welcome === undefined || made.added === undefined ? {} : { welcome: base64(made.welcome), added: made.added }),
          });
          // Frames ordered before the commit were of the epoch it ends: processed with the state before it.
          await this.fill(conv, current, frame.seq);
          this.conversations.set(conv, { group: made.group, seq: frame.seq, frameId: frame.id });
          this.trust.learnFromGroup(made.group);
          return;
        } catch (error) {
          if (!isEpochTaken(error) || attempt >= COMMIT_TRIES) throw error;
          await this.catchUpNow();
        }
      }
    });
  }

  private async catchUpNow(): Promise<void> {
    for (;;) {
      const page = await this.client.request('mlsSync', { after: this.cursor, limit: SYNC_PAGE });
      for (const frame of page.frames) {
        await this.process(frame);
        this.cursor = Math.max(this.cursor, frame.id);
      }
      if (!page.hasMore) return;
    }
  }

  /** Processes the conversation's frames ordered before `seq` that this device has not seen. */
  private async fill(conv: string, conversation: Conversation, seq: number): Promise<void> {
    let after = conversation.frameId;
    while (conversation.seq < seq - 1) {
      const page = await this.client.request('mlsSync', { after, limit: SYNC_PAGE });
      for (const frame of page.frames) if (frame.conv === conv && frame.seq < seq) await this.process(frame);
      if (!page.hasMore) return;
      after = page.frames.at(-1)!.id;
    }
  }

  private async process(frame: MlsFrame): Promise<void> {
    const welcome = frame.welcome !== undefined && frame.added?.some((device) => device.deviceId === this.id.deviceId);
    if (welcome && (await this.join(frame))) return;
    const conversation = this.conversations.get(frame.conv);
    if (conversation === undefined) this.madeElsewhere.add(frame.conv);
    if (conversation === undefined || frame.seq <= conversation.seq) return;
    if (frame.seq > conversation.seq + 1) {
      // A frame overtook others of its conversation (a room on several nodes): fetch those first.
      await this.fill(frame.conv, conversation, frame.seq);
      if (frame.seq !== conversation.seq + 1 || this.conversations.get(frame.conv) !== conversation) return;
    }
    conversation.seq = frame.seq;
    conversation.frameId = frame.id;
    let received;
    try {
      received = await receive(conversation.group, bytes(frame.data));
    } catch (error) {
      this.emit('dropped', { conv: frame.conv, seq: frame.seq, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    conversation.group = received.group;
    if (received.kind === 'message') {
      const text = new TextDecoder().decode(received.plaintext);
      this.emit('message', { conv: frame.conv, sender: received.sender, text, frameId: frame.id, seq: frame.seq });
    } else if (received.removed) {
      this.conversations.delete(frame.conv);
      this.emit('removed', { conv: frame.conv });
    } else {
      this.trust.learnFromGroup(received.group);
    }
  }

  /** Joins from a welcome for this device; false when none of its key packages opens it. */
  private async join(frame: MlsFrame): Promise<boolean> {
    const welcome = bytes(frame.welcome!);
    const bundle = await this.bundles.welcomed(welcome);
    if (bundle === undefined) return false;
    let group: Group;
    try {
      group = await joinFromWelcome(this.device, bundle, welcome);
    } catch (error) {
      this.emit('dropped', { conv: frame.conv, seq: frame.seq, reason: error instanceof Error ? error.message : String(error) });
      return true;
    }
    this.bundles.spend(bundle.encoded, welcome);
    this.conversations.set(frame.conv, { group, seq: frame.seq, frameId: frame.id });
    this.trust.learnFromGroup(group);
    this.emit('joined', { conv: frame.conv });
    // The welcome took a key package: another, queued after this frame (saves stay in order); offline, at the next start.
    void this.serially(() => this.topUp()).catch(() => undefined);
    return true;
  }
}

function isEpochTaken(error: unknown): boolean {
  return error instanceof ClientError && error.code === ErrorCode.EPOCH_TAKEN;
}
