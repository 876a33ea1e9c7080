/** Finding what a request names, as the requesting user may see it. Plain functions over the store. */
import { type Contact, type GroupInfo } from '../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM, dmConversation, groupConversation } from '../../src-shared/protocol/conversation.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { GroupRow, RelationRow, ServerStore, UserRow } from '../store/types.js';
import { ServerError } from './dispatch.js';

export function userNamed(store: ServerStore, name: string): UserRow {
  const user = store.userByKey(nameKey(name.normalize('NFC')));
  if (!user || user.status === 'pending') throw new ServerError(ErrorCode.UNKNOWN_USER, `no user named ${name}`);
  return user;
}

export function otherUser(store: ServerStore, me: UserRow, name: string): UserRow {
  const user = userNamed(store, name);
  if (user.id === me.id) throw new ServerError(ErrorCode.INVALID_TARGET, 'that is you');
  return user;
}

/** The group, if the user is a member; otherwise it does not exist for them. */
export function memberGroup(store: ServerStore, me: UserRow, groupId: number): GroupRow {
  const group = store.groupById(groupId);
  if (!group || !store.isMember(groupId, me.id)) {
    throw new ServerError(ErrorCode.UNKNOWN_GROUP, `you are in no group with id ${groupId}`);
  }
  return group;
}

export function ownedGroup(store: ServerStore, me: UserRow, groupId: number): GroupRow {
  const group = memberGroup(store, me, groupId);
  if (group.ownerId !== me.id) {
    throw new ServerError(ErrorCode.NOT_GROUP_OWNER, `only the owner of ${group.name} can change it`);
  }
  return group;
}

/** The users' names, sorted case-insensitively. */
function sortedNames(store: ServerStore, userIds: number[]): string[] {
  return userIds.map((id) => store.userById(id)!.name).sort((a, b) => nameKey(a).localeCompare(nameKey(b)));
}

export function groupInfo(store: ServerStore, group: GroupRow): GroupInfo {
  return {
    id: group.id,
    name: group.name,
    owner: store.userById(group.ownerId)!.name,
    members: sortedNames(store, store.memberIds(group.id)),
    conv: groupConversation(group.id),
    invited: sortedNames(store, store.invitedIds(group.id)),
  };
}

export function contact(store: ServerStore, me: UserRow, relation: RelationRow): Contact {
  const otherId = relation.userLow === me.id ? relation.userHigh : relation.userLow;
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
    name: store.userById(otherId)!.name,
    state,
    conv: dmConversation(me.id, otherId),
    since: relation.since,
  };
}

/** Whether the user may read a conversation. */
export function canRead(store: ServerStore, me: UserRow, conv: ConversationKey): boolean {
  if (conv === ROOM) return true;
  const [kind, a, b] = conv.split(':');
  if (kind === 'dm') return Number(a) === me.id || Number(b) === me.id;
  if (kind === 'group') return store.isMember(Number(a), me.id);
  return false;
}
