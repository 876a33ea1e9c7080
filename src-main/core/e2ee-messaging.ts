/**
 * Direct messages and groups, end-to-end encrypted, as the app and the terminal client use them (issue 35):
 * one device (client/e2ee.ts) over the logged-in ChatClient, what travels inside its MLS messages (the
 * payload of PROTOCOL §20.12: a message with its reply, an edit, a delete, a reaction, a call's keys), and the device's
 * decrypted history (e2ee-history.ts). Its messages are ChatMessages flagged `e2ee`, so a window shows them
 * as any other.
 *
 * Membership follows the host's: before it sends, a device adds to the conversation's MLS group the users
 * who may read it and are not in it yet (each user's devices that have a key package), and removes those
 * who may no longer. A DM whose other user has no device that can be added is not sent, nor a group message
 * whose other members have none (PeerNotReady): it waits, and nothing falls back to plain text without the
 * user's knowing (E2eeUnavailable says why).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { E2EE_ID_BASE, type E2eeMessage, isE2eeId } from '../../src-shared/e2ee-app.js';
import { quote, quoteOf, reactionsWith } from '../../src-shared/message-changes.js';
import { type ConversationKey, dmConversation, groupConversation } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { type Attachment, attachment, callId, type Contact, messageId, reactionEmoji, sha256Hex, type Target } from '../../src-shared/protocol/objects.js';
import { endpointId } from '../../src-shared/protocol/calls.js';
import { fitFileName } from '../../src-shared/file-names.js';
import { mentionChains, mentioned } from '../../src-shared/mentions.js';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import { thumbnailProblem } from '../../src-shared/thumbnails.js';
import type { FileSecret } from '../crypto/file-seal.js';
import type { ChatClient } from '../client/client.js';
import { ClientError } from '../client/errors.js';
import { type DecryptedMessage, type DevicesChanged, EncryptedChats } from '../client/e2ee.js';
import type { DeviceStore } from '../client/e2ee-store.js';
import type { DeviceHistory } from './e2ee-history.js';
import { MemberAdder } from './e2ee-members.js';
import type { CallKeys } from './call-keys.js';

const base64Of = (bytes: number) => z.string().refine((text) => /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').length === bytes, `not ${bytes} bytes in base64`);

/** A file of a message: what the host's file `id` holds, sealed (crypto/file-seal.ts), and how to open it. */
export const sealedFile = attachment.omit({ sha256: true }).extend({ key: base64Of(32), iv: base64Of(12), digest: sha256Hex });
export type SealedFile = z.infer<typeof sealedFile>;

/** A `call` message's fingerprints (§20.12): a SHA-512 one in hex with colons is 199 characters with its hash's name. */
const MAX_FINGERPRINT_LENGTH = 256;
const MAX_FINGERPRINTS = 8;

/** What one application message carries, as JSON in UTF-8 (PROTOCOL §20.12). */
const payload = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('message'),
    from: z.string().min(1),
    ts: z.number().int(),
    clientMsgId: z.string().min(1).max(64),
    text: z.string(),
    replyTo: messageId.optional(),
    files: z.array(sealedFile).min(1).max(LIMITS.maxAttachments).optional(),
  }),
  z.object({ kind: z.literal('edit'), from: z.string().min(1), ts: z.number().int(), target: messageId, text: z.string().min(1) }),
  z.object({ kind: z.literal('delete'), from: z.string().min(1), ts: z.number().int(), target: messageId }),
  z.object({ kind: z.literal('reaction'), from: z.string().min(1), ts: z.number().int(), target: messageId, emoji: reactionEmoji, on: z.boolean() }),
  z.object({
    kind: z.literal('call'),
    from: z.string().min(1),
    ts: z.number().int(),
    callId,
    endpoint: endpointId,
    fingerprints: z.array(z.string().min(1).max(MAX_FINGERPRINT_LENGTH)).min(1).max(MAX_FINGERPRINTS),
  }),
]);
type Payload = z.infer<typeof payload>;
type Change = Exclude<Payload['kind'], 'message' | 'call'>;

/** A payload this size or under fits an MLS application message (§20.10) with its framing and padding to spare. */
const PAYLOAD_BUDGET = 48 * 1024;

/** A conversation this device cannot encrypt for now: who cannot be reached, and why, in a sentence. */
export class E2eeUnavailable extends Error {
  readonly code = 'E2EE_UNAVAILABLE';
}

/** A message that cannot go until an app becomes a device or adds this one: it waits, saying so (e2ee-outbox.ts). */
export class NotReadyYet extends E2eeUnavailable {}

/** A DM whose other user, or a group whose other members, have no device to add yet: it waits, saying so, until the host says one can be added (`deviceReady`). */
export class PeerNotReady extends NotReadyYet {
  constructor(readonly users: string[]) {
    const whose = users.length === 1 ? `${users[0]}’s app` : `The apps of ${users.slice(0, -1).join(', ')} and ${users.at(-1)}`;
    super(`${whose} cannot receive end-to-end encrypted messages yet (an older version, or not signed in since it was updated): not sent`);
  }
}

/** A conversation whose encryption this device is not in yet (it joined the group since, or is a user's new app): it waits until a member's app adds it. */
export class NotAddedYet extends NotReadyYet {
  constructor() {
    super('This device is not in the conversation’s encryption yet: it goes once another member’s app adds it');
  }
}

export type E2eeNotice = { conv: ConversationKey; kind: 'unreachable' | 'devicesChanged'; users: string[] };

export type E2eeMessagingEvents = {
  /** A message from another device (another user's, or another of this user's). */
  message: [E2eeMessage];
  /** A message changed: edited, deleted for everyone, or reacted to. */
  changed: [E2eeMessage, Change];
  notice: [E2eeNotice];
  /** A `call` message: the DTLS fingerprints an endpoint of a call uses (core/call-keys.ts). */
  callKeys: [CallKeys];
};

export class E2eeMessaging extends EventEmitter<E2eeMessagingEvents> {
  /** Who of a conversation's readers this device adds to its group, and when (e2ee-members.ts). */
  private readonly adder: MemberAdder;
  private readonly onMessage = (message: DecryptedMessage): void => {
    try {
      this.open(message);
    } catch (error) {
      console.error(`lanchat: an encrypted message could not be kept: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  /** The host tells the sender when another reader fetched its frames (PROTOCOL §20.7): kept for later history pages. */
  private readonly onDelivered = ({ conv, upTo }: { conv: ConversationKey; upTo: number }): void => {
    if (isE2eeId(upTo)) this.history.noteDelivered(conv, upTo);
  };
  /** Said in each conversation the user is in, by the name bound to their id (or the id, if none is). */
  private readonly onDevicesChanged = ({ userId, conversations }: DevicesChanged): void => {
    const user = this.history.nameOf(userId) ?? `#${userId}`;
    for (const conv of conversations) this.emit('notice', { conv, kind: 'devicesChanged', users: [user] });
  };

  private constructor(
    private readonly client: ChatClient,
    readonly chats: EncryptedChats,
    readonly history: DeviceHistory,
    private readonly me: string,
  ) {
    super();
    chats.on('message', this.onMessage);
    chats.on('devicesChanged', this.onDevicesChanged);
    client.on('delivered', this.onDelivered);
    this.adder = new MemberAdder(client, chats, history, me);
  }

  /**
   * The device of the logged-in user, restored from `store` when it holds one; null when the host has no
   * encrypted layer (no `mls` in hello's features). What was sent while it was away is heard once the
   * caller's listeners are on: call `catchUp()`.
   */
  static async start(client: ChatClient, history: DeviceHistory, store?: DeviceStore): Promise<E2eeMessaging | null> {
    const session = client.session;
    if (session === null || !(session.hello.features ?? []).includes('mls')) return null;
    const chats = await EncryptedChats.start(client, { ...(store ? { store } : {}), catchUp: false });
    const messaging = new E2eeMessaging(client, chats, history, session.login.name);
    history.bindName(chats.id.userId, session.login.name);
    await messaging.adder.start(await messaging.bindContacts());
    return messaging;
  }

  catchUp(): Promise<void> {
    return this.chats.catchUp();
  }

  /** The safety number with another user (PROTOCOL §20, SECURITY "Verification"), and whether it is marked verified. */
  async safetyNumber(user: string): Promise<{ safetyNumber: string; verified: boolean }> {
    const id = this.userId(user);
    return { safetyNumber: (await this.chats.trust.safetyNumber(id)).digits, verified: this.chats.trust.verification(id) === 'verified' };
  }

  markVerified(user: string): Promise<void> {
    return this.chats.markVerified(this.userId(user));
  }

  private userId(user: string): number {
    const id = this.history.idOf(user);
    if (id === undefined) throw new E2eeUnavailable(`No encrypted conversation with ${user} yet: there is no safety number to compare`);
    return id;
  }

  /** Resolves once the device's queued work has run and saved it (EncryptedChats.close). */
  close(): Promise<void> {
    this.adder.close();
    this.chats.off('message', this.onMessage);
    this.chats.off('devicesChanged', this.onDevicesChanged);
    this.client.off('delivered', this.onDelivered);
    return this.chats.close();
  }

  /**
   * Encrypts a message to a DM or a group and sends it, with the sealed files it carries (uploaded already);
   * resolves with it as this device keeps and shows it. A resend (e2ee-outbox.ts) is encrypted anew under
   * its first client id and time: the host answers the frame it stored the first time, if it did.
   */
  async send(
    target: Exclude<Target, { kind: 'room' }>,
    text: string,
    replyTo?: number,
    clientMsgId: string = randomUUID(),
    files: SealedFile[] = [],
    ts: number = Date.now(),
  ): Promise<E2eeMessage> {
    const conv = await this.ready(target);
    const sent: Payload = { kind: 'message', from: this.me, ts, clientMsgId, text, ...(replyTo === undefined ? {} : { replyTo }), ...(files.length > 0 ? { files: withinBudget(files, (some) => this.encode({ kind: 'message', from: this.me, ts, clientMsgId, text, files: some })) } : {}) };
    const { frame, delivered } = await this.chats.send(conv, this.encode(sent), clientMsgId, files.length > 0 ? { files: files.map((file) => file.id) } : {});
    const message = this.messageOf(conv, E2EE_ID_BASE + frame.id, this.me, ts, clientMsgId, text, replyTo, target.kind === 'dm' ? target.user : undefined, sent.kind === 'message' ? sent.files : undefined);
    this.history.put(message);
    if (delivered) this.history.noteDelivered(conv, message.id);
    return message;
  }

  /** The key, IV and digest of a file of an encrypted message this device holds, by the host's file id. */
  fileSecret(fileId: string): FileSecret | undefined {
    return this.history.fileSecret(fileId);
  }

  /** Edits, deletes or reacts to an encrypted message; resolves with it as it is now. */
  async change(id: number, change: { kind: 'edit'; text: string } | { kind: 'delete' } | { kind: 'reaction'; emoji: string; on: boolean }): Promise<E2eeMessage> {
    const original = this.history.get(id);
    if (original === undefined) throw new Error('No such encrypted message on this device');
    const target: Exclude<Target, { kind: 'room' }> = original.groupId !== undefined ? { kind: 'group', groupId: original.groupId } : { kind: 'dm', user: this.peerOf(original) };
    if (change.kind !== 'reaction' && nameKey(original.from) !== nameKey(this.me)) throw new Error('Only its sender can change a message');
    const conv = await this.ready(target);
    const sent: Payload = { ...change, from: this.me, ts: Date.now(), target: id } as Payload;
    // Deleted for everyone: the host deletes the message's sealed files with this frame (§20.6).
    const files = change.kind === 'delete' ? (original.attachments ?? []).map((file) => file.id) : [];
    await this.chats.send(conv, this.encode(sent), randomUUID(), files.length > 0 ? { deleteFiles: files } : {});
    return this.apply(original, sent);
  }

  /** Says in `conv`, end-to-end encrypted, which DTLS fingerprints this device's endpoint uses in a call (core/call-keys.ts). */
  async vouchCall(conv: ConversationKey, call: string, endpoint: string, fingerprints: string[]): Promise<void> {
    const conversation = await this.ready(await this.targetOf(conv));
    await this.chats.send(conversation, this.encode({ kind: 'call', from: this.me, ts: Date.now(), callId: call, endpoint, fingerprints }), randomUUID());
  }

  /** Brings `user`'s devices into `conv`'s group when none of theirs is known to be in it (core/call-keys.ts). */
  async admit(conv: ConversationKey, user: string): Promise<void> {
    const id = this.history.idOf(user);
    if (id !== undefined && this.chats.members(conv)?.some((member) => member.userId === id)) return;
    await this.ready(await this.targetOf(conv));
  }

  /** A DM or group's target from its conversation key. */
  private async targetOf(conv: ConversationKey): Promise<Exclude<Target, { kind: 'room' }>> {
    if (conv.startsWith('group:')) return { kind: 'group', groupId: Number(conv.slice('group:'.length)) };
    const other = (): string | undefined => this.dmPeer(conv, this.chats.id.userId);
    if (other() === undefined) await this.bindContacts();
    const user = other();
    if (user === undefined) throw new E2eeUnavailable('No encrypted conversation with them yet');
    return { kind: 'dm', user };
  }

  /** The other party of a DM message, seen from this user. */
  private peerOf(message: E2eeMessage): string {
    return nameKey(message.from) === nameKey(this.me) ? message.to! : message.from;
  }

  private encode(value: Payload): string {
    return JSON.stringify(value);
  }

  /**
   * The conversation of a target, with this device in its group and every device of its readers that
   * can be added in it. Throws E2eeUnavailable for a DM whose other user has no device to add.
   */
  private async ready(target: Exclude<Target, { kind: 'room' }>): Promise<ConversationKey> {
    const { conv, readers } = await this.readersOf(target);
    if (this.chats.members(conv) === undefined) await this.chats.catchUp();
    /** Whether making the group found no device to add, neither a reader's nor this user's others. */
    let nobodyToAdd = false;
    // One user first, so that the id that appears is theirs (the first reader with a device; the others are
    // added below), or, if no reader has one, this user's other devices alone.
    for (const first of [...readers, undefined]) {
      if (this.chats.members(conv) !== undefined) break;
      try {
        await this.chats.create(conv, first === undefined ? [] : [first]);
        nobodyToAdd = false;
        if (first !== undefined) this.adder.bindAdded(conv, first, []);
        break;
      } catch (error) {
        if (error instanceof ClientError) throw error;
        nobodyToAdd = true;
      }
    }
    if (this.chats.members(conv) === undefined) {
      // A DM whose encryption began without this device (a user's new app): the other's app adds it.
      if (target.kind === 'dm') throw nobodyToAdd ? new PeerNotReady([target.user]) : new NotAddedYet();
      if (readers.length === 0) throw new E2eeUnavailable('Nobody else in this group can read it yet: write once someone has joined');
      // The group's encryption began elsewhere without this device (it joined since): a member's app adds it.
      if (!nobodyToAdd) throw new NotAddedYet();
      throw new PeerNotReady(readers);
    }
    await this.adder.addMissing(conv, readers);
    const present = (): Set<number> => new Set(this.chats.members(conv)!.map((id) => id.userId));
    // Who the host no longer lets read the conversation is removed from its group.
    const allowed = new Set([this.me, ...readers].map((user) => this.history.idOf(user)));
    const leaving = [...present()].filter((id) => !allowed.has(id) && this.history.nameOf(id) !== undefined);
    if (leaving.length > 0) await this.chats.removeUsers(conv, leaving);
    const unreachable = readers.filter((user) => {
      const id = this.history.idOf(user);
      return id === undefined || !present().has(id);
    });
    if (target.kind === 'dm' && unreachable.length > 0) throw new PeerNotReady([target.user]);
    if (unreachable.length > 0) this.emit('notice', { conv, kind: 'unreachable', users: unreachable });
    return conv;
  }

  /** A DM's key (the user ids of both, from the contact the host lists) or a group's, and who else reads it. */
  private async readersOf(target: Exclude<Target, { kind: 'room' }>): Promise<{ conv: ConversationKey; readers: string[] }> {
    if (target.kind === 'group') {
      const { groups } = await this.client.request('groups');
      const group = groups.find((candidate) => candidate.id === target.groupId);
      if (group === undefined) throw new E2eeUnavailable('You are not in this group');
      return { conv: groupConversation(group.id), readers: group.members.filter((member) => nameKey(member) !== nameKey(this.me)) };
    }
    let id = this.history.idOf(target.user);
    if (id === undefined) {
      await this.bindContacts();
      id = this.history.idOf(target.user);
    }
    if (id === undefined) throw new E2eeUnavailable(`Ask ${target.user} for a chat first: there is no conversation with them to encrypt yet`);
    return { conv: dmConversation(this.chats.id.userId, id), readers: [target.user] };
  }

  /** A DM's key names both user ids, and the host lists it with the other's name: that binds the name. */
  private async bindContacts(): Promise<Contact[]> {
    const { contacts } = await this.client.request('contacts');
    const mine = String(this.chats.id.userId);
    for (const contact of contacts) {
      const ids = contact.conv.split(':').slice(1);
      const other = ids.find((id) => id !== mine) ?? mine;
      if (ids.includes(mine)) this.history.bindName(Number(other), contact.name);
    }
    return contacts;
  }

  /** A decrypted message: kept and shown when its payload is one and its sender is who the credential says. */
  private open(decrypted: DecryptedMessage): void {
    let parsed: Payload;
    try {
      parsed = payload.parse(JSON.parse(decrypted.text));
    } catch {
      return;
    }
    // The name is bound to the credential's user id the first time; another name claimed for it later is not believed.
    const from = this.history.bindName(decrypted.sender.userId, parsed.from);
    if (parsed.kind === 'call') {
      this.emit('callKeys', { conv: decrypted.conv, user: from, callId: parsed.callId, endpoint: parsed.endpoint, fingerprints: parsed.fingerprints });
      return;
    }
    const id = E2EE_ID_BASE + decrypted.frameId;
    if (parsed.kind === 'message') {
      const peer = decrypted.conv.startsWith('dm:') ? this.dmPeer(decrypted.conv, decrypted.sender.userId) : undefined;
      const message = this.messageOf(decrypted.conv, id, from, parsed.ts, parsed.clientMsgId, parsed.text, parsed.replyTo, peer, parsed.files);
      this.history.put(message);
      this.emit('message', message);
      return;
    }
    const original = this.history.get(parsed.target);
    if (original === undefined || original.conv !== decrypted.conv) return;
    if (parsed.kind !== 'reaction' && nameKey(original.from) !== nameKey(from)) return;
    this.emit('changed', this.apply(original, { ...parsed, from }), parsed.kind);
  }

  /** For a DM, the `to` of a message: the other of the key's two users, seen from the sender. */
  private dmPeer(conv: ConversationKey, senderId: number): string | undefined {
    const ids = conv.split(':').slice(1).map(Number);
    const other = ids.find((id) => id !== senderId) ?? senderId;
    return this.history.nameOf(other);
  }

  private messageOf(
    conv: ConversationKey,
    id: number,
    from: string,
    ts: number,
    clientMsgId: string,
    text: string,
    replyTo: number | undefined,
    to: string | undefined,
    files: SealedFile[] = [],
  ): E2eeMessage {
    const original = replyTo === undefined ? undefined : this.history.get(replyTo);
    const attachments = files.map((file) => this.keep(file));
    const groupId = conv.startsWith('group:') ? Number(conv.slice('group:'.length)) : undefined;
    return {
      id,
      conv,
      from,
      ...(to !== undefined ? { to } : {}),
      ...(groupId !== undefined ? { groupId } : {}),
      text,
      ts,
      clientMsgId,
      ...(original !== undefined ? { replyTo: quoteOf(original) } : replyTo !== undefined ? { replyTo: quote(replyTo, '', '', true) } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
      ...this.mentionsOf(conv, text),
      e2ee: true,
    };
  }

  /**
   * Whom the text mentions, worked out here by the host's rule (src-shared/mentions.ts), since the host
   * cannot read it: the users this device knows by name, counted if they are in the conversation (its two
   * users for a DM, the members of its MLS group), their names sorted as the host lists them (PROTOCOL §17.5).
   */
  private mentionsOf(conv: ConversationKey, text: string): { mentions?: string[] } {
    const readers = new Set(conv.startsWith('dm:') ? conv.split(':').slice(1).map(Number) : (this.chats.members(conv) ?? []).map((id) => id.userId));
    const names = mentioned(mentionChains(text), (candidate) => this.history.idOf(candidate), (id) => readers.has(id)).map((id) => this.history.nameOf(id)!);
    return names.length > 0 ? { mentions: names.sort() } : {};
  }

  /**
   * A sealed file as the window shows it (its secret kept apart, by file id). The host no longer checks what
   * another device says of it, so this device does as the host would: a name it could not keep is fitted,
   * a thumbnail that is not a small image dropped (PROTOCOL §18.2, §18.6).
   */
  private keep(file: SealedFile): Attachment {
    const { key, iv, digest, thumbnail, ...shown } = file;
    this.history.putFileSecret(file.id, { key, iv, digest, size: file.size });
    return { ...shown, name: fitFileName(file.name), sha256: digest, ...(thumbnail !== undefined && thumbnailProblem(thumbnail) === null ? { thumbnail } : {}) };
  }

  /** A change applied to the kept message, which is kept and returned as it is now. */
  private apply(original: E2eeMessage, change: Payload): E2eeMessage {
    let next: E2eeMessage = original;
    if (change.kind === 'edit' && !original.deleted) {
      const { mentions: _before, ...rest } = original;
      next = { ...rest, text: change.text, editedAt: change.ts, ...this.mentionsOf(original.conv, change.text) };
    }
    if (change.kind === 'delete') {
      for (const file of original.attachments ?? []) this.history.forgetFileSecret(file.id);
      const { replyTo: _reply, reactions: _reactions, mentions: _mentions, attachments: _files, ...rest } = original;
      next = { ...rest, text: '', deleted: true };
    }
    if (change.kind === 'reaction' && !original.deleted) next = { ...original, ...reactionsWith(original, change.emoji, change.from, change.on) };
    this.history.put(next);
    return next;
  }
}

/** The files with their thumbnails, but those that would take the payload past its budget, dropped from the last. */
function withinBudget(files: SealedFile[], encode: (files: SealedFile[]) => string): SealedFile[] {
  const kept = [...files];
  for (let index = kept.length - 1; index >= 0 && Buffer.byteLength(encode(kept)) > PAYLOAD_BUDGET; index -= 1) {
    const { thumbnail: _dropped, ...rest } = kept[index]!;
    kept[index] = rest;
  }
  return kept;
}
