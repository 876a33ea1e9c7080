/** Groups: listing, creating, renaming, deleting, members, invitations, and the membership lines of their histories. */
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { type GroupEvent, type GroupInfo, type GroupInvitation } from '../../../src-shared/protocol/objects.js';
import { checkGroupName } from '../../../src-shared/text.js';
import { nameKey } from '../../../src-shared/protocol/names.js';
import { groupConversation } from '../../../src-shared/protocol/conversation.js';
import { type GroupRow, type InvitationRow, type NewGroupEvent, StoreConflictError, type StoredLine, type UserRow } from '../../store/types.js';
import { type Handlers, type ServerContext, ServerError } from '../dispatch.js';
import { groupInfo, memberGroup, ownedGroup, userNamed } from '../lookups.js';
import { refuseMuted } from './messages.js';
import type { LoggedInSession } from '../session.js';

/** What a membership line says, in English, for clients that do not read `groupEvent` (docs/PROTOCOL.md §6.4.1). */
function describe(actor: string, event: GroupEvent): string {
  switch (event.kind) {
    case 'created':
      return `${actor} created the group “${event.name}”`;
    case 'invited':
      return `${actor} invited ${event.user}`;
    case 'joined':
      return `${actor} joined`;
    case 'removed':
      return `${actor} removed ${event.user}`;
    case 'left':
      return `${actor} left`;
    default:
      return `${actor} renamed the group to “${event.name}”`;
  }
}

function line(groupId: number, actor: UserRow, event: GroupEvent): NewGroupEvent {
  return { groupId, actorId: actor.id, event, text: describe(actor.name, event) };
}

/** Why a download of a group's file ends when its reader may no longer read the group. */
const GROUP_GONE = { code: ErrorCode.UNKNOWN_FILE, message: 'you may no longer read this file' };

export function groupHandlers(ctx: ServerContext) {
  const { store, log, roster, limits } = ctx;

  /** Sends the group's current state to its members (but the requesting session) and returns it. */
  function announceGroup(session: LoggedInSession, groupId: number): GroupInfo {
    const info = groupInfo(store, store.groupById(groupId)!);
    log.info('group changed', { user: session.user.name, group: info.name, members: info.members.length });
    roster.deliver(store.memberIds(groupId), { type: 'group', group: info }, session);
    return info;
  }

  /** Sends each user's pending invitations, all of them, to all their sessions. */
  function announceInvitations(userIds: Iterable<number>): void {
    for (const userId of userIds) roster.deliver([userId], { type: 'groupInvitations', invitations: invitationsOf(userId) });
  }

  function invitationsOf(userId: number): GroupInvitation[] {
    return store.invitationsOf(userId).map((row: InvitationRow) => ({
      groupId: row.groupId,
      name: store.groupById(row.groupId)!.name,
      inviter: store.userById(row.inviterId)!.name,
      since: row.since,
    }));
  }

  /** Pushes membership lines to every session of everyone who may read the group now, the actor's too. */
  function pushLines(lines: StoredLine[]): void {
    for (const { message, eventId } of lines) roster.deliver(store.memberIds(message.groupId!), { type: 'message', message, eventId });
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

  /** Refuses inviting someone who declined my chat request: a group must not be a way around it. */
  function refuseChatDeclined(me: UserRow, user: UserRow): void {
    const relation = store.relation(me.id, user.id);
    if (relation?.state === 'declined' && relation.requesterId === me.id) {
      throw new ServerError(ErrorCode.CHAT_DECLINED, `${user.name} declined your chat request`);
    }
  }

  function refuseOverLimit(group: GroupRow | null, adding: number): void {
    const count = group ? store.memberIds(group.id).length + store.invitedIds(group.id).length : 1;
    if (count + adding > limits.maxGroupMembers) {
      throw new ServerError(
        ErrorCode.LIMIT_REACHED,
        `a group may have ${limits.maxGroupMembers} members, invitations included, the most this room allows`,
      );
    }
  }

  return {
    groups: (session) => ({ groups: store.groupsOf(session.user.id).map((group) => groupInfo(store, group)) }),

    groupCreate: (session, request) => {
      const me = session.user;
      refuseMuted(ctx, me);
      const name = checkedName(request.name);
      if (store.groupsOwnedCount(me.id) >= limits.maxGroupsPerOwner) {
        throw new ServerError(ErrorCode.LIMIT_REACHED, `you own ${limits.maxGroupsPerOwner} groups, the most this room allows`);
      }
      const invitees = new Map<number, UserRow>();
      for (const member of request.members ?? []) {
        const user = userNamed(store, member);
        if (user.id === me.id) continue;
        refuseChatDeclined(me, user);
        invitees.set(user.id, user);
      }
      refuseOverLimit(null, invitees.size);
      const now = Date.now();
      const { result: group, lines } = uniquely(name, () =>
        store.changeGroups(now, () => {
          const group = store.createGroup(name, nameKey(name), me.id, now);
          for (const user of invitees.values()) store.invite(group.id, user.id, me.id, now);
          const invited = [...invitees.values()].map((user) => line(group.id, me, { kind: 'invited', user: user.name }));
          return { result: group, events: [line(group.id, me, { kind: 'created', name }), ...invited] };
        }),
      );
      const info = groupInfo(store, group);
      log.info('group created', { user: me.name, group: info.name, invited: info.invited.length });
      roster.deliver([me.id], { type: 'group', group: info }, session);
      announceInvitations(invitees.keys());
      pushLines(lines);
      return { group: info };
    },

    groupRename: (session, request) => {
      const me = session.user;
      const group = ownedGroup(store, me, request.groupId);
      refuseMuted(ctx, me);
      const name = checkedName(request.name);
      const { lines } = uniquely(name, () =>
        store.changeGroups(Date.now(), () => {
          store.renameGroup(group.id, name, nameKey(name));
          return { result: null, events: name === group.name ? [] : [line(group.id, me, { kind: 'renamed', name })] };
        }),
      );
      const info = announceGroup(session, group.id);
      announceInvitations(store.invitedIds(group.id));
      pushLines(lines);
      return { group: info };
    },

    groupDelete: (session, request) => {
      const group = ownedGroup(store, session.user, request.groupId);
      const members = store.memberIds(group.id);
      const invited = store.invitedIds(group.id);
      store.deleteGroup(group.id);
      roster.end({ conv: groupConversation(group.id) }, GROUP_GONE);
      log.info('group deleted', { user: session.user.name, group: group.name });
      roster.deliver(members, { type: 'groupRemoved', groupId: group.id, name: group.name, reason: 'deleted' }, session);
      announceInvitations(invited);
      return {};
    },

    groupAddMember: (session, request) => {
      const me = session.user;
      const group = ownedGroup(store, me, request.groupId);
      refuseMuted(ctx, me);
      const user = userNamed(store, request.user);
      const invitation = store.invitation(group.id, user.id);
      if (store.isMember(group.id, user.id) || invitation?.state === 'pending') return { group: groupInfo(store, group) };
      refuseChatDeclined(me, user);
      if (invitation?.state === 'declined') {
        throw new ServerError(ErrorCode.INVITATION_DECLINED, `${user.name} declined to be in ${group.name} or left it`);
      }
      refuseOverLimit(group, 1);
      const { lines } = store.changeGroups(Date.now(), () => {
        store.invite(group.id, user.id, me.id, Date.now());
        return { result: null, events: [line(group.id, me, { kind: 'invited', user: user.name })] };
      });
      log.info('group invitation', { user: me.name, group: group.name, invited: user.name });
      const info = announceGroup(session, group.id);
      announceInvitations([user.id]);
      pushLines(lines);
      return { group: info };
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
      if (store.invitation(group.id, user.id)?.state === 'pending') {
        store.deleteInvitation(group.id, user.id);
        log.info('group invitation withdrawn', { user: me.name, group: group.name, invited: user.name });
        announceInvitations([user.id]);
        return { group: announceGroup(session, group.id) };
      }
      if (!store.isMember(group.id, user.id)) {
        throw new ServerError(ErrorCode.NOT_GROUP_MEMBER, `${user.name} is not in ${group.name}`);
      }
      const left = user.id === me.id;
      const now = Date.now();
      const { lines } = store.changeGroups(now, () => {
        store.removeMember(group.id, user.id);
        // Leaving says no to the group: its owner cannot invite them back (issue 10 item 10).
        if (left) store.declineInvitation(group.id, me.id, group.ownerId, now);
        return { result: null, events: [left ? line(group.id, me, { kind: 'left' }) : line(group.id, me, { kind: 'removed', user: user.name })] };
      });
      roster.end({ conv: groupConversation(group.id), userId: user.id }, GROUP_GONE);
      roster.deliver([user.id], { type: 'groupRemoved', groupId: group.id, name: group.name, reason: 'removed' }, session);
      const info = announceGroup(session, group.id);
      pushLines(lines);
      return { group: info };
    },

    groupInfo: (session, request) => ({ group: groupInfo(store, memberGroup(store, session.user, request.groupId)) }),

    groupInvitations: (session) => ({ invitations: invitationsOf(session.user.id) }),

    groupAnswer: (session, request) => {
      const me = session.user;
      const group = store.groupById(request.groupId);
      const invitation = store.invitation(request.groupId, me.id);
      if (!group || invitation?.state !== 'pending') {
        throw new ServerError(ErrorCode.UNKNOWN_GROUP, `you have no invitation to a group with id ${request.groupId}`);
      }
      const now = Date.now();
      if (!request.accept) {
        store.declineInvitation(group.id, me.id, invitation.inviterId, now);
        log.info('group invitation answered', { user: me.name, group: group.name, accepted: false });
        announceGroup(session, group.id);
        announceInvitations([me.id]);
        return {};
      }
      const { lines } = store.changeGroups(now, () => {
        store.deleteInvitation(group.id, me.id);
        store.addMember(group.id, me.id);
        return { result: null, events: [line(group.id, me, { kind: 'joined' })] };
      });
      log.info('group invitation answered', { user: me.name, group: group.name, accepted: true });
      const info = announceGroup(session, group.id);
      announceInvitations([me.id]);
      pushLines(lines);
      return { group: info };
    },
  } satisfies Pick<
    Handlers,
    | 'groups'
    | 'groupCreate'
    | 'groupRename'
    | 'groupDelete'
    | 'groupAddMember'
    | 'groupRemoveMember'
    | 'groupInfo'
    | 'groupInvitations'
    | 'groupAnswer'
  >;
}
