/**
 * Who of a conversation's readers this device adds to the conversation's MLS group, and when: at each
 * message (E2eeMessaging's `ready`), and in a group soon after members joined, so that they can write at
 * once (PROTOCOL §20.8). It binds the name of a user it adds to the id that appears in the group.
 */
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { GroupInfo } from '../../src-shared/protocol/objects.js';
import type { ChatClient } from '../client/client.js';
import type { EncryptedChats } from '../client/e2ee.js';
import type { DeviceHistory } from './e2ee-history.js';

/** addJoined's pause is drawn from 0 to this. */
const JOINED_ADD_SPREAD_MS = 1500;

export class MemberAdder {
  /** Users this device added to a conversation's group (or found in it) since its membership last changed, by conversation. */
  private readonly tried = new Map<ConversationKey, Set<string>>();
  /** Members who joined, to be added after a pause (addJoined), by conversation. */
  private readonly joining = new Map<ConversationKey, { users: Set<string>; timer: NodeJS.Timeout }>();
  private readonly onGroup = ({ group }: { group: GroupInfo }): void => {
    this.tried.delete(group.conv);
    this.addJoined(group);
  };

  constructor(
    private readonly client: ChatClient,
    private readonly chats: EncryptedChats,
    private readonly history: DeviceHistory,
    private readonly me: string,
  ) {
    client.on('group', this.onGroup);
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
      // membership once a device of theirs is in. One with no key package left is tried again next time.
      if (id === undefined && tried.has(nameKey(user))) continue;
      const before = [...present()];
      if ((await this.chats.add(conv, [user])) > 0) tried.add(nameKey(user));
      this.bindAdded(conv, user, before);
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
    for (const { timer } of this.joining.values()) clearTimeout(timer);
    this.client.off('group', this.onGroup);
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
    if (joined.length === 0) return;
    const due = this.joining.get(group.conv);
    if (due) {
      for (const user of joined) due.users.add(user);
      return;
    }
    const users = new Set(joined);
    const devices = this.chats.members(group.conv)!.length;
    const timer = setTimeout(() => {
      this.joining.delete(group.conv);
      // Failing (the link down, say) leaves it to the next message of a member, as before.
      this.chats
        .catchUp()
        .then(() => {
          const now = this.chats.members(group.conv);
          return now === undefined || now.length > devices ? undefined : this.addMissing(group.conv, [...users]);
        })
        .catch(() => undefined);
    }, Math.random() * JOINED_ADD_SPREAD_MS);
    timer.unref();
    this.joining.set(group.conv, { users, timer });
  }
}
