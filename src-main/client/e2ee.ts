/**
 * End-to-end encrypted conversations over a ChatClient (docs/PROTOCOL.md §20): one device of the
 * logged-in user, its key packages, and its MLS group in each conversation it belongs to. The host
 * orders each conversation's frames by `seq`; this module applies them in that order and shows only
 * what decrypts and verifies, so a host that rewrites, replays or forges frames shows nothing.
 *
 * The device's keys and group states live in memory only: a restart is a new device. Keeping them in
 * a device store encrypted at rest (the OS keychain, else a key file) is the next step (issue 35).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  type Device,
  type DeviceId,
  type Group,
  type KeyPackageBundle,
  addMembers,
  createDevice,
  createGroup,
  createKeyPackage,
  encrypt,
  envelope,
  joinFromWelcome,
  members,
  receive,
  removeMembers,
  signatureKeys,
  welcomedBundle,
} from '../crypto/mls.js';
import type { MlsFrame } from '../../src-shared/protocol/e2ee.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ChatClient } from './client.js';
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
};

/** The key packages a device keeps on the host, topped up to this many at start. */
const KEY_PACKAGES = 10;
/** Tries of a commit that lost its epoch to another before the caller hears of it. */
const COMMIT_TRIES = 3;
const SYNC_PAGE = 100;

interface Conversation {
  group: Group;
  /** The last frame of the conversation this device processed, by its place and its id. */
  seq: number;
  frameId: number;
}

const bytes = (base64: string): Uint8Array => new Uint8Array(Buffer.from(base64, 'base64'));
const base64 = (value: Uint8Array): string => Buffer.from(value).toString('base64');

export class EncryptedChats extends EventEmitter<E2eeEvents> {
  private readonly conversations = new Map<string, Conversation>();
  /** Key packages uploaded and not yet used by a welcome. */
  private readonly bundles: KeyPackageBundle[] = [];
  /** The highest frame id processed from mlsSync. */
  private cursor = 0;
  /** Every change of state, one at a time: each operation reads the state the one before left. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onPush = (push: { frame: MlsFrame }): void => {
    void this.serially(() => this.process(push.frame));
  };
  /** Back online after a drop: what was pushed meanwhile is fetched. */
  private readonly onOnline = (): void => {
    void this.catchUp();
  };

  private constructor(
    private readonly client: ChatClient,
    readonly device: Device,
  ) {
    super();
  }

  /** Registers a new device of the logged-in user, uploads its key packages and catches up. */
  static async start(client: ChatClient): Promise<EncryptedChats> {
    const deviceId = randomBytes(16).toString('hex');
    // The user id goes into the credential: the key is registered first, and the host answers the id.
    const keys = await signatureKeys();
    const { userId } = await client.request('deviceRegister', { deviceId, signatureKey: base64(keys.publicKey) });
    const device = await createDevice(userId, deviceId, keys);
    const chats = new EncryptedChats(client, device);
    client.on('mls', chats.onPush);
    client.on('online', chats.onOnline);
    await chats.uploadKeyPackages(KEY_PACKAGES);
    await chats.catchUp();
    return chats;
  }

  get id(): DeviceId {
    return this.device.id;
  }

  /** Stops taking pushes. */
  close(): void {
    this.client.off('mls', this.onPush);
    this.client.off('online', this.onOnline);
  }

  async uploadKeyPackages(count: number): Promise<number> {
    const made = await Promise.all(Array.from({ length: count }, () => createKeyPackage(this.device)));
    const result = await this.client.request('keyPackagesUpload', { deviceId: this.id.deviceId, keyPackages: made.map((bundle) => base64(bundle.encoded)) });
    this.bundles.push(...made);
    return result.keyPackages;
  }

  /** The devices in the conversation's group as this device knows it; undefined when it is in none. */
  members(conv: string): DeviceId[] | undefined {
    const found = this.conversations.get(conv);
    return found && members(found.group);
  }

  /**
   * Makes the conversation's group with every device of `users` (and this user's other devices) that
   * has a key package. When another device's group won the race, this one joins that group instead
   * (from the welcome, if it was added) and 'joined' says so: resolves either way.
   */
  create(conv: string, users: readonly string[]): Promise<void> {
    return this.serially(async () => {
      const me = this.client.session?.login.name;
      if (me === undefined) throw new ClientError('DISCONNECTED', 'not logged in');
      const group = await createGroup(this.device, new TextEncoder().encode(conv));
      const claimed = await this.claim([me, ...users]);
      if (claimed.length === 0) throw new Error(`no device of ${users.join(', ')} can be added now`);
      const added = await addMembers(group, claimed.map((device) => device.keyPackage));
      try {
        const { frame } = await this.client.request('mlsCommit', {
          conv,
          deviceId: this.id.deviceId,
          commit: base64(added.commit),
          welcome: base64(added.welcome),
          added: claimed.map(({ user, deviceId }) => ({ user, deviceId })),
        });
        this.conversations.set(conv, { group: added.group, seq: frame.seq, frameId: frame.id });
      } catch (error) {
        if (!isEpochTaken(error)) throw error;
        // Another device's group came first: ours never existed for anyone else.
        await this.catchUpNow();
      }
    });
  }

  /** Adds every device of the users that has a key package; after losing an epoch, tries again on the new one. */
  add(conv: string, users: readonly string[]): Promise<void> {
    return this.commit(conv, async (group) => {
      const present = new Set(members(group).map((id) => id.deviceId));
      const claimed = (await this.claim(users)).filter((device) => !present.has(device.deviceId));
      if (claimed.length === 0) return null;
      const added = await addMembers(group, claimed.map((device) => device.keyPackage));
      return { ...added, added: claimed.map(({ user, deviceId }) => ({ user, deviceId })) };
    });
  }

  /** Removes every device of the users (by user id, as credentials name them) from the conversation's group. */
  removeUsers(conv: string, userIds: readonly number[]): Promise<void> {
    return this.commit(conv, async (group) => {
      const leaving = members(group).filter((id) => userIds.includes(id.userId));
      return leaving.length === 0 ? null : removeMembers(group, leaving);
    });
  }

  /** Encrypts and sends; resolves with the frame as the host stored it. */
  send(conv: string, text: string, clientMsgId: string = randomUUID()): Promise<MlsFrame> {
    return this.serially(async () => {
      const current = this.joined(conv);
      const sent = await encrypt(current.group, new TextEncoder().encode(text));
      // The sending generation is spent whether or not the host takes the message.
      current.group = sent.group;
      const { frame } = await this.client.request('mlsSend', { conv, deviceId: this.id.deviceId, clientMsgId, data: base64(sent.message) });
      await this.fill(conv, current, frame.seq);
      current.seq = Math.max(current.seq, frame.seq);
      current.frameId = Math.max(current.frameId, frame.id);
      return frame;
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

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private joined(conv: string): Conversation {
    const found = this.conversations.get(conv);
    if (found === undefined) throw new Error(`this device is in no encrypted group for ${conv}`);
    return found;
  }

  /** One key package per device of each user, checked to be that device's; devices with none left are skipped. */
  private async claim(users: readonly string[]): Promise<{ user: string; deviceId: string; keyPackage: Uint8Array }[]> {
    const claimed: { user: string; deviceId: string; keyPackage: Uint8Array }[] = [];
    for (const user of users) {
      const { devices } = await this.client.request('keyPackagesClaim', { user });
      for (const device of devices) {
        if (device.keyPackage === undefined || device.deviceId === this.id.deviceId) continue;
        const keyPackage = bytes(device.keyPackage);
        const found = envelope(keyPackage);
        const matches = found?.kind === 'keyPackage' && found.device?.deviceId === device.deviceId && Buffer.from(found.signatureKey).equals(bytes(device.signatureKey));
        if (matches) claimed.push({ user, deviceId: device.deviceId, keyPackage });
      }
    }
    return claimed;
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
    }
  }

  /** Joins from a welcome for this device; false when none of its key packages opens it. */
  private async join(frame: MlsFrame): Promise<boolean> {
    const welcome = bytes(frame.welcome!);
    const bundle = await welcomedBundle(this.bundles, welcome);
    if (bundle === undefined) return false;
    let group: Group;
    try {
      group = await joinFromWelcome(this.device, bundle, welcome);
    } catch (error) {
      this.emit('dropped', { conv: frame.conv, seq: frame.seq, reason: error instanceof Error ? error.message : String(error) });
      return true;
    }
    // A key package is used once.
    this.bundles.splice(this.bundles.indexOf(bundle), 1);
    this.conversations.set(frame.conv, { group, seq: frame.seq, frameId: frame.id });
    this.emit('joined', { conv: frame.conv });
    return true;
  }
}

function isEpochTaken(error: unknown): boolean {
  return error instanceof ClientError && error.code === ErrorCode.EPOCH_TAKEN;
}
