/** Finding what a request names, as the requesting user may see it. Plain functions over the store. */
import { type ChatMessage, type Contact, type GroupInfo } from '../../src-shared/protocol/objects.js';
import { type ConversationKey, dmConversation, groupConversation } from '../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { AsyncStore, GroupRow, RelationRow, UserRow } from '../store/types.js';
import { canReadConversation } from '../store/readers.js';
import { ServerError } from './errors.js';

export async function userNamed(store: AsyncStore, name: string): Promise<UserRow> {
  const user = await store.userByKey(nameKey(name.normalize('NFC')));
  if (!user || user.status === 'pending') throw new ServerError(ErrorCode.UNKNOWN_USER, `no user named ${name}`);
  return user;
}

export async function otherUser(store: AsyncStore, me: UserRow, name: string): Promise<UserRow> {
  const user = await userNamed(store, name);
  if (user.id === me.id) throw new ServerError(ErrorCode.INVALID_TARGET, 'that is you');
  return user;
}

/** A group the user is not a member of does not exist for them. */
export const notInGroup = (groupId: number | undefined): ServerError => new ServerError(ErrorCode.UNKNOWN_GROUP, `you are in no group with id ${groupId}`);

/** The group, if the user is a member; otherwise it does not exist for them. */
export async function memberGroup(store: AsyncStore, me: UserRow, groupId: number): Promise<GroupRow> {
  const group = await store.groupById(groupId);
  if (!group || !(await store.isMember(groupId, me.id))) throw notInGroup(groupId);
  return group;
}

/**
 * Why a resend of `stored`, which is answered as that message (PROTOCOL.md §7.4), is refused: only a group can
 * stop being readable, and a resend there after its sender left is refused as a new send would be. Null if not.
 */
export async function resendRefusal(store: AsyncStore, me: Pick<UserRow, 'id'>, stored: ChatMessage): Promise<ServerError | null> {
  return (await canRead(store, me, stored.conv)) ? null : notInGroup(stored.groupId);
}

export async function ownedGroup(store: AsyncStore, me: UserRow, groupId: number): Promise<GroupRow> {
  const group = await memberGroup(store, me, groupId);
  if (group.ownerId !== me.id) {
    throw new ServerError(ErrorCode.NOT_GROUP_OWNER, `only the owner of ${group.name} can change it`);
  }
  return group;
}

/** The users' names, sorted case-insensitively. */
async function sortedNames(store: AsyncStore, userIds: number[]): Promise<string[]> {
  const users = await Promise.all(userIds.map((id) => store.userById(id)));
  return users.map((user) => user!.name).sort((a, b) => nameKey(a).localeCompare(nameKey(b)));
}

export async function groupInfo(store: AsyncStore, group: GroupRow): Promise<GroupInfo> {
  return {
    id: group.id,
    name: group.name,
    owner: (await store.userById(group.ownerId))!.name,
    members: await sortedNames(store, await store.memberIds(group.id)),
    conv: groupConversation(group.id),
    invited: await sortedNames(store, await store.invitedIds(group.id)),
  };
}

/** The id of the user a relation of `userId`'s is with. */
export const otherOf = (relation: RelationRow, userId: number): number => (relation.userLow === userId ? relation.userHigh : relation.userLow);

export async function contact(store: AsyncStore, me: UserRow, relation: RelationRow): Promise<Contact> {
  const otherId = otherOf(relation, me.id);
  const mine = relation.requesterId === me.id;
  const state =
    relation.state === 'accepted'
      ? 'accepted'
      : relation.state === 'pending'
        ? mine
          ? 'outgoing'
          : 'incoming'
        : mine
          ? 'declined-by-them'
          : 'declined-by-me';
  return {
    name: (await store.userById(otherId))!.name,
    state,
    conv: dmConversation(me.id, otherId),
    since: relation.since,
  };
}

/** Whether the user may read a conversation. */
export async function canRead(store: AsyncStore, me: Pick<UserRow, 'id'>, conv: ConversationKey): Promise<boolean> {
  return canReadConversation(conv, me.id, (groupId, userId) => store.isMember(groupId, userId));
}
