/**
 * Who of a conversation's readers this device adds to the conversation's MLS group, and when: at each
 * message (E2eeMessaging's `ready`); in a group soon after members joined or a member's first device
 * appeared; and a user's new app soon after the host names it or, if this app missed that, as it starts or
 * reconnects: so that they can write at once (PROTOCOL §20.8). It binds the name of a user it adds to the id
 * that appears in the group.
 */
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { Contact, GroupInfo } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import { addableDevices } from '../client/e2ee-devices.js';
import type { DeviceId } from '../crypto/mls.js';
import type { EncryptedChats } from '../client/e2ee.js';
import type { DeviceHistory } from './e2ee-history.js';

/** A user's DMs and groups, as the host lists them. */
interface Conversations {
  contacts: Contact[];
  groups: GroupInfo[];
}

/** addSoon's pause is drawn from 0 to this. */
const ADD_SPREAD_MS = 1500;

export class MemberAdder {
  /** Users this device added to a conversation's group (or found in it) since its membership last changed, by conversation. */
  private readonly tried = new Map<ConversationKey, Set<string>>();
  /** Members to be added after a pause (addSoon), by conversation. */
  private readonly joining = new Map<ConversationKey, Set<string>>();
  /**
   * Users whose claim found no device to add (an older client's, say), name key → name: not claimed again at each
   * message, only once the host says a device of theirs can be added (`deviceReady`) or, after a reconnect (such a
   * push may have been missed meanwhile), lists one (addLacking). Then this device adds them to its groups they are in.
   */
  private readonly deviceless = new Map<string, string>();
  private readonly onGroup = ({ group }: { group: GroupInfo }): void => {
    this.tried.delete(group.conv);
    this.addJoined(group);
  };
  // A host without deviceList (older) still has those whose claim found no device claimed again.
  private readonly onOnline = (): void => void this.addLacking().catch(() => this.claimAgain([...this.deviceless.values()]));
  private readonly onDeviceReady = ({ user, devices }: { user: string; devices?: string[] }): void => {
    if (this.deviceless.has(nameKey(user))) this.claimAgain([user]);
    // An older host names no devices: a new one is added at the next claim of its user, as before. This
    // device's own uploads are told to it too: its groups have it.
    else if (devices !== undefined && devices.some((deviceId) => deviceId !== this.chats.id.deviceId)) {
      this.conversations()
        .then((on) => this.addDevices(new Map([[nameKey(user), devices]]), on))
        .catch(() => undefined);
    }
  };
  /** Timers of `soon`, cleared on close. */
  private readonly timers = new Set<NodeJS.Timeout>();

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
   * As the app starts (`contacts`: the user's, as the host listed them just now): each group's members now, so
   * that the next `group` push tells who joined since (addJoined); and those who joined while this app was away
   * are added as if it had heard of them then: a message of theirs may wait for it. Then, without waiting, the
   * devices that appeared meanwhile (addLacking).
   */
  async start(contacts: Contact[]): Promise<void> {
    const { groups } = await this.client.request('groups');
    for (const group of groups) this.addJoined(group);
    this.addLacking({ contacts, groups }).catch(() => undefined);
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
   * Adds to each conversation whose group this device is in the devices of its readers that it lacks and the
   * host can hand out (`deviceList`): a user's new app or a member's first one whose `deviceReady` push this app
   * missed, being closed or offline then, and a member whose claim found no device before. Run at start and
   * after each reconnect.
   */
  private async addLacking(given?: Conversations): Promise<void> {
    const { contacts, groups } = await this.conversations(given);
    const all = [...new Set([this.me, ...contacts.map((contact) => contact.name), ...groups.flatMap((group) => group.members)])];
    this.addDevices(await addableDevices(this.client, all), { contacts, groups });
  }

  /**
   * Adds the devices of `listed` (name key → device ids that can be added) to each conversation of their users
   * (of those given, as `conversations()` gives them) whose group this device is in and lacks one, after the random pause (addSoon's) and a catch-up, unless
   * another device added them meanwhile. A user's own devices go to all their conversations. Failing (the
   * link down, say) leaves them out until the next push or reconnect.
   */
  private addDevices(listed: Map<string, readonly string[]>, { contacts, groups }: Conversations): void {
    const readers = new Map<ConversationKey, string[]>([
      ...contacts.map((contact): [ConversationKey, string[]] => [contact.conv, [contact.name, this.me]]),
      ...groups.map((group): [ConversationKey, string[]] => [group.conv, group.members]),
    ]);
    /** The readers of the conversation with listed devices its group (of `members`) lacks, name → those devices. */
    const lacking = (conv: ConversationKey, members: readonly DeviceId[]): Map<string, string[]> => {
      const due = new Map<string, string[]>();
      const present = members.map((id) => id.deviceId);
      for (const user of readers.get(conv)!) {
        const absent = (listed.get(nameKey(user)) ?? []).filter((deviceId) => !present.includes(deviceId));
        if (absent.length > 0) due.set(user, absent);
      }
      return due;
    };
    this.soon(async () => {
      await this.chats.catchUp();
      for (const conv of readers.keys()) {
        const members = this.chats.members(conv);
        if (members === undefined) continue;
        const due = lacking(conv, members);
        const users = [...due.keys()];
        if (users.length === 0) continue;
        const present = new Set(members.map((id) => id.userId));
        // A user with no device in the group yet is added as a member who joined (bound to the id that appears).
        const newcomers = users.filter((user) => !present.has(this.history.idOf(user) ?? -1));
        for (const user of newcomers) this.deviceless.delete(nameKey(user));
        const more = users.filter((user) => !newcomers.includes(user));
        // One conversation's failure (a commit refused, say) leaves the others to be added.
        await (async () => {
          if (newcomers.length > 0) await this.addMissing(conv, newcomers);
          // Only the devices it lacks: claiming a user whole would spend a package of each device they have there.
          if (more.length > 0) await this.chats.add(conv, more, due);
        })().catch(() => undefined);
      }
    });
  }

  /** The user's DMs that are on (a declined one takes no commits of its requester, nor needs any) and groups: as given, or as the host lists them now. */
  private async conversations(given?: Conversations): Promise<Conversations> {
    const [{ contacts }, { groups }] = given ? [given, given] : await Promise.all([this.client.request('contacts'), this.client.request('groups')]);
    return { contacts: contacts.filter((contact) => !contact.state.startsWith('declined')), groups };
  }

  /** Runs `task` after a random pause of up to ADD_SPREAD_MS (addSoon says why); its failure leaves the adding to the next occasion. */
  private soon(task: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task().catch(() => undefined);
    }, Math.random() * ADD_SPREAD_MS);
    timer.unref();
    this.timers.add(timer);
  }

  /** Binds `user` to the one user id that appeared in the group since `before`, if exactly one did. */
  bindAdded(conv: ConversationKey, user: string, before: number[]): void {
    const mine = this.chats.id.userId;
    const appeared = (this.chats.members(conv) ?? []).map((id) => id.userId).filter((id) => id !== mine && !before.includes(id));
    const unique = [...new Set(appeared)];
    if (unique.length === 1) this.history.bindName(unique[0]!, user);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
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
      for (const user of users) due.add(user);
      return;
    }
    const adding = new Set(users);
    this.joining.set(conv, adding);
    const devices = this.chats.members(conv)!.length;
    this.soon(async () => {
      this.joining.delete(conv);
      await this.chats.catchUp();
      const now = this.chats.members(conv);
      if (now !== undefined && now.length <= devices) await this.addMissing(conv, [...adding]);
    });
  }
}
