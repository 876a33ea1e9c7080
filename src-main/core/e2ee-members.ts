/**
 * Who of a conversation's readers this device adds to the conversation's MLS group, and when: at each
 * message (E2eeMessaging's `ready`), and in a group soon after members joined or a member's first device
 * appeared, so that they can write at once (PROTOCOL §20.8). It binds the name of a user it adds to the id
 * that appears in the group.
 */
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { GroupInfo } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import type { EncryptedChats } from '../client/e2ee.js';
import type { DeviceHistory } from './e2ee-history.js';

/** addSoon's pause is drawn from 0 to this. */
const ADD_SPREAD_MS = 1500;

export class MemberAdder {
  /** Users this device added to a conversation's group (or found in it) since its membership last changed, by conversation. */
  private readonly tried = new Map<ConversationKey, Set<string>>();
  /** Members to be added after a pause (addSoon), by conversation. */
  private readonly joining = new Map<ConversationKey, { users: Set<string>; timer: NodeJS.Timeout }>();
  /**
   * Users whose claim found no device to add (an older client's, say), name key → name: not claimed again at each
   * message, only once the host says a device of theirs can be added (`deviceReady`), or after a reconnect, as
   * such a push may have been missed meanwhile. Then this device adds them to its groups they are in.
   */
  private readonly deviceless = new Map<string, string>();
  private readonly onGroup = ({ group }: { group: GroupInfo }): void => {
    this.tried.delete(group.conv);
    this.addJoined(group);
  };
  private readonly onOnline = (): void => this.claimAgain([...this.deviceless.values()]);
  private readonly onDeviceReady = ({ user, devices }: { user: string; devices?: string[] }): void => {
    if (this.deviceless.has(nameKey(user))) this.claimAgain([user]);
    // An older host names no devices: a new one is added at the next claim of its user, as before.
    else if (devices !== undefined) void this.addNewDevices(user, devices).catch(() => undefined);
  };
  /** Timers of addNewDevices, cleared on close. */
  private readonly deviceTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly client: ChatClient,
    private readonly chats: EncryptedChats,
    private readonly history: DeviceHistory,
    private readonly me: string,
  ) {
    client.on('group', this.onGroup);
    client.on('online', this.onOnline);
    client.on('deviceReady', this.onDeviceReady);
  }

  /**
   * Each group's members now, so that the next `group` push tells who joined since (addJoined); and those who
   * joined while this app was away are added as if it had heard of them then: a message of theirs may wait for it.
   */
  async noteGroups(): Promise<void> {
    const { groups } = await this.client.request('groups');
    for (const group of groups) this.addJoined(group);
  }

  /** Adds to the conversation's group, which this device is in, every device of `users` that can be added and is not in it yet. */
  async addMissing(conv: ConversationKey, users: readonly string[]): Promise<void> {
    const present = (): Set<number> => new Set(this.chats.members(conv)!.map((id) => id.userId));
    const tried = this.tried.get(conv) ?? new Set<string>();
    this.tried.set(conv, tried);
    for (const user of users) {
      const id = this.history.idOf(user);
      if (id !== undefined && present().has(id)) continue;
      // A user bound to no id may be in the group already: adding claims their key packages, so once per
      // membership once a device of theirs is in.
      if ((id === undefined && tried.has(nameKey(user))) || this.deviceless.has(nameKey(user))) continue;
      const before = [...present()];
      if ((await this.chats.add(conv, [user])) > 0) tried.add(nameKey(user));
      else this.deviceless.set(nameKey(user), user);
      this.bindAdded(conv, user, before);
    }
  }

  /** Claims `users` again: soon in each of this device's groups they are in, and at the next message. */
  private claimAgain(users: readonly string[]): void {
    if (users.length === 0) return;
    for (const user of users) this.deviceless.delete(nameKey(user));
    // Failing (the link down, say) leaves it to the next message, which claims them.
    this.client
      .request('groups')
      .then(({ groups }) => {
        for (const group of groups) {
          const members = new Set(group.members.map(nameKey));
          const due = users.filter((user) => members.has(nameKey(user)));
          if (due.length > 0 && this.chats.members(group.conv) !== undefined) this.addSoon(group.conv, due);
        }
      })
      .catch(() => undefined);
  }

  /**
   * `devices` of `user` can be added (a `deviceReady` push): a user's new app, this user's own too. Each
   * conversation of theirs whose group this device is in and lacks one of them gets them after the random
   * pause (addSoon's), unless another device added them meanwhile. Failing (the link down, say) leaves them
   * out until the next push.
   */
  private async addNewDevices(user: string, devices: readonly string[]): Promise<void> {
    const [{ contacts }, { groups }] = await Promise.all([this.client.request('contacts'), this.client.request('groups')]);
    const theirs = (name: string): boolean => nameKey(name) === nameKey(user) || nameKey(user) === nameKey(this.me);
    const convs = [
      ...contacts.filter((contact) => theirs(contact.name)).map((contact) => contact.conv),
      ...groups.filter((group) => group.members.some(theirs)).map((group) => group.conv),
    ];
    const lacking = (conv: ConversationKey): boolean => {
      const present = this.chats.members(conv)?.map((id) => id.deviceId);
      return present !== undefined && devices.some((deviceId) => !present.includes(deviceId));
    };
    for (const conv of convs.filter(lacking)) {
      const timer = setTimeout(() => {
        this.deviceTimers.delete(timer);
        this.chats
          .catchUp()
          .then(() => (lacking(conv) ? this.chats.add(conv, [user]) : undefined))
          .catch(() => undefined);
      }, Math.random() * ADD_SPREAD_MS);
      timer.unref();
      this.deviceTimers.add(timer);
    }
  }

  /** Binds `user` to the one user id that appeared in the group since `before`, if exactly one did. */
  bindAdded(conv: ConversationKey, user: string, before: number[]): void {
    const mine = this.chats.id.userId;
    const appeared = (this.chats.members(conv) ?? []).map((id) => id.userId).filter((id) => id !== mine && !before.includes(id));
    const unique = [...new Set(appeared)];
    if (unique.length === 1) this.history.bindName(unique[0]!, user);
  }

  close(): void {
    for (const timer of [...[...this.joining.values()].map((due) => due.timer), ...this.deviceTimers]) clearTimeout(timer);
    this.client.off('group', this.onGroup);
    this.client.off('online', this.onOnline);
    this.client.off('deviceReady', this.onDeviceReady);
  }

  /**
   * A member who joined a group can write there only once a device already in its encryption adds theirs
   * (NotAddedYet): this device does so soon after the host says they joined, instead of at its next message.
   * Only those who joined since this device last heard who is in the group (a push, or its start, in this run of
   * the app or an earlier one: the device history keeps each group's members). The pause
   * is drawn at random so that the members' devices online do not all claim the newcomers' key packages at
   * once: the first adds them, and the others, catching up first, find the group grown since and leave it
   * (claiming would spend a key package of each newcomer device for nothing).
   */
  private addJoined(group: GroupInfo): void {
    const members = new Set(group.members.map(nameKey));
    const before = this.history.groupMembers(group.conv);
    this.history.noteGroupMembers(group.conv, members);
    if (before === undefined || this.chats.members(group.conv) === undefined) return;
    const joined = group.members.filter((member) => !before.has(nameKey(member)) && nameKey(member) !== nameKey(this.me));
    if (joined.length > 0) this.addSoon(group.conv, joined);
  }

  /** Adds `users` to the conversation's group after the random pause, unless the group grew meanwhile. */
  private addSoon(conv: ConversationKey, users: readonly string[]): void {
    const due = this.joining.get(conv);
    if (due) {
      for (const user of users) due.users.add(user);
      return;
    }
    const adding = new Set(users);
    const devices = this.chats.members(conv)!.length;
    const timer = setTimeout(() => {
      this.joining.delete(conv);
      // Failing (the link down, say) leaves it to the next message of a member, as before.
      this.chats
        .catchUp()
        .then(() => {
          const now = this.chats.members(conv);
          return now === undefined || now.length > devices ? undefined : this.addMissing(conv, [...adding]);
        })
        .catch(() => undefined);
    }, Math.random() * ADD_SPREAD_MS);
    timer.unref();
    this.joining.set(conv, { users: adding, timer });
  }
}
