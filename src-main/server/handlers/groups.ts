/** Groups: listing, creating, renaming, deleting, members. */
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { type GroupInfo } from '../../../src-shared/protocol/objects.js';
import { checkGroupName } from '../../../src-shared/text.js';
import { nameKey } from '../../../src-shared/protocol/names.js';
import { type GroupRow, StoreConflictError } from '../../store/types.js';
import { type Handlers, type ServerContext, ServerError } from '../dispatch.js';
import { groupInfo, memberGroup, ownedGroup, userNamed } from '../lookups.js';
import type { LoggedInSession } from '../session.js';

export function groupHandlers(ctx: ServerContext) {
  const { store, log, roster, limits } = ctx;

  /** Sends the group's current state to its members (but the requesting session) and returns it. */
  function announceGroup(session: LoggedInSession, groupId: number): GroupInfo {
    const info = groupInfo(store, store.groupById(groupId)!);
    log.info('group changed', { user: session.user.name, group: info.name, members: info.members.length });
    roster.deliver(store.memberIds(groupId), { type: 'group', group: info }, session);
    return info;
  }

  function checkedName(name: string): string {
    const checked = checkGroupName(name, limits.maxGroupNameLength);
    if (!checked.ok) throw new ServerError(ErrorCode.NAME_INVALID, checked.reason);
    return checked.name;
  }

  /** Runs a store write that may hit another group's name. */
  function uniquely<T>(name: string, write: () => T): T {
    try {
      return write();
    } catch (error) {
      if (error instanceof StoreConflictError) throw new ServerError(ErrorCode.GROUP_EXISTS, `a group named ${name} already exists`);
      throw error;
    }
  }

  return {
    groups: (session) => ({ groups: store.groupsOf(session.user.id).map((group) => groupInfo(store, group)) }),

    groupCreate: (session, request) => {
      const name = checkedName(request.name);
      if (store.groupsOwnedCount(session.user.id) >= limits.maxGroupsPerOwner) {
        throw new ServerError(ErrorCode.LIMIT_REACHED, `you own ${limits.maxGroupsPerOwner} groups, the most this room allows`);
      }
      const group: GroupRow = uniquely(name, () => store.createGroup(name, nameKey(name), session.user.id, Date.now()));
      const info = groupInfo(store, group);
      log.info('group created', { user: session.user.name, group: info.name });
      roster.deliver([session.user.id], { type: 'group', group: info }, session);
      return { group: info };
    },

    groupRename: (session, request) => {
      const group = ownedGroup(store, session.user, request.groupId);
      const name = checkedName(request.name);
      uniquely(name, () => store.renameGroup(group.id, name, nameKey(name)));
      return { group: announceGroup(session, group.id) };
    },

    groupDelete: (session, request) => {
      const group = ownedGroup(store, session.user, request.groupId);
      const members = store.memberIds(group.id);
      store.deleteGroup(group.id);
      log.info('group deleted', { user: session.user.name, group: group.name });
      roster.deliver(members, { type: 'groupRemoved', groupId: group.id, name: group.name, reason: 'deleted' }, session);
      return {};
    },

    groupAddMember: (session, request) => {
      const group = ownedGroup(store, session.user, request.groupId);
      const user = userNamed(store, request.user);
      if (!store.isMember(group.id, user.id) && store.memberIds(group.id).length >= limits.maxGroupMembers) {
        throw new ServerError(ErrorCode.LIMIT_REACHED, `${group.name} has ${limits.maxGroupMembers} members, the most this room allows`);
      }
      store.addMember(group.id, user.id);
      return { group: announceGroup(session, group.id) };
    },

    groupRemoveMember: (session, request) => {
      const me = session.user;
      const group = memberGroup(store, me, request.groupId);
      const user = userNamed(store, request.user);
      if (user.id !== me.id && group.ownerId !== me.id) {
        throw new ServerError(ErrorCode.NOT_GROUP_OWNER, `only the owner of ${group.name} can remove others`);
      }
      if (user.id === group.ownerId) {
        throw new ServerError(ErrorCode.INVALID_TARGET, 'the owner cannot leave the group; delete it instead');
      }
      if (!store.isMember(group.id, user.id)) {
        throw new ServerError(ErrorCode.NOT_GROUP_MEMBER, `${user.name} is not in ${group.name}`);
      }
      store.removeMember(group.id, user.id);
      roster.deliver([user.id], { type: 'groupRemoved', groupId: group.id, name: group.name, reason: 'removed' }, session);
      return { group: announceGroup(session, group.id) };
    },

    groupInfo: (session, request) => ({ group: groupInfo(store, memberGroup(store, session.user, request.groupId)) }),
  } satisfies Pick<Handlers, 'groups' | 'groupCreate' | 'groupRename' | 'groupDelete' | 'groupAddMember' | 'groupRemoveMember' | 'groupInfo'>;
}
