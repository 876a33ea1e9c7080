/** Groups: listing, creating, renaming, deleting, members, invitations, and the membership lines of their histories. */
import { ErrorCode } from '../../../src-shared/protocol/errors.js';
import { type GroupEvent, type GroupInfo, type GroupInvitation } from '../../../src-shared/protocol/objects.js';
import { checkGroupName } from '../../../src-shared/text.js';
import { nameKey } from '../../../src-shared/protocol/names.js';
import { groupConversation } from '../../../src-shared/protocol/conversation.js';
import { type GroupRow, type InvitationRow, type NewGroupEvent, StoreConflictError, type StoredLine, type UserRow } from '../../store/types.js';
import type { Handlers, ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import { groupInfo, memberGroup, ownedGroup, userNamed } from '../lookups.js';
import { refuseMuted } from './messages.js';
import { purgeDeleted } from './conversation.js';
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
  const { store, log, fanOut, limits } = ctx;

  /** Sends the group's current state to its members (but the requesting session) and returns it. */
  async function announceGroup(session: LoggedInSession, groupId: number): Promise<GroupInfo> {
    const info = await groupInfo(store, (await store.groupById(groupId))!);
    log.info('group changed', { user: session.user.name, group: info.name, members: info.members.length });
    fanOut.pushGroup(await store.memberIds(groupId), { type: 'group', group: info }, session);
    return info;
  }

  /** Sends each user's pending invitations, all of them, to all their sessions. */
  async function announceInvitations(userIds: Iterable<number>): Promise<void> {
    for (const userId of userIds) fanOut.push([userId], { type: 'groupInvitations', invitations: await invitationsOf(userId) });
  }

  async function invitationsOf(userId: number): Promise<GroupInvitation[]> {
    const rows = await store.invitationsOf(userId);
    return Promise.all(
      rows.map(async (row: InvitationRow) => ({
        groupId: row.groupId,
        name: (await store.groupById(row.groupId))!.name,
        inviter: (await store.userById(row.inviterId))!.name,
        since: row.since,
      })),
    );
  }

  /** Pushes membership lines to every session of everyone who may read the group now, the actor's too. */
  async function pushLines(lines: StoredLine[]): Promise<void> {
    for (const { message, eventId } of lines) fanOut.push(await store.memberIds(message.groupId!), { type: 'message', message, eventId });
  }

  /**
   * A group change, from its checks to its pushes, in ctx.publish: its membership lines take
   * message ids, and no check of one change may be undone by another half done.
   */
  function changing<T>(change: () => Promise<T>): Promise<T> {
    return ctx.publish.run(change);
  }

  function checkedName(name: string): string {
    const checked = checkGroupName(name, limits.maxGroupNameLength);
    if (!checked.ok) throw new ServerError(ErrorCode.NAME_INVALID, checked.reason);
    return checked.name;
  }

  /** Runs a store write that may hit another group's name. */
  async function uniquely<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof StoreConflictError) throw new ServerError(ErrorCode.GROUP_EXISTS, `a group named ${name} already exists`);
      throw error;
    }
  }

  /** Refuses inviting someone who declined my chat request: a group must not be a way around it. */
  async function refuseChatDeclined(me: UserRow, user: UserRow): Promise<void> {
    const relation = await store.relation(me.id, user.id);
    if (relation?.state === 'declined' && relation.requesterId === me.id) {
      throw new ServerError(ErrorCode.CHAT_DECLINED, `${user.name} declined your chat request`);
    }
  }

  async function refuseOverLimit(group: GroupRow | null, adding: number): Promise<void> {
    const count = group ? (await store.memberIds(group.id)).length + (await store.invitedIds(group.id)).length : 1;
    if (count + adding > limits.maxGroupMembers) {
      throw new ServerError(
        ErrorCode.LIMIT_REACHED,
        `a group may have ${limits.maxGroupMembers} members, invitations included, the most this room allows`,
      );
    }
  }

  return {
    groups: async (session) => ({ groups: await Promise.all((await store.groupsOf(session.user.id)).map((group) => groupInfo(store, group))) }),

    groupCreate: (session, request) => changing(async () => {
      const me = session.user;
      refuseMuted(ctx, me);
      const name = checkedName(request.name);
      if ((await store.groupsOwnedCount(me.id)) >= limits.maxGroupsPerOwner) {
        throw new ServerError(ErrorCode.LIMIT_REACHED, `you own ${limits.maxGroupsPerOwner} groups, the most this room allows`);
      }
      const invitees = new Map<number, UserRow>();
      for (const member of request.members ?? []) {
        const user = await userNamed(store, member);
        if (user.id !== me.id) invitees.set(user.id, user);
      }
      await refuseOverLimit(null, invitees.size);
      // Declines last among the invitees' checks: an over-limit list must not tell who declined.
      for (const user of invitees.values()) await refuseChatDeclined(me, user);
      const now = ctx.clock.now();
      const { result: group, lines } = await uniquely(name, () =>
        store.changeGroups(now, async (tx) => {
          const group = await tx.createGroup(name, nameKey(name), me.id, now);
          for (const user of invitees.values()) await tx.invite(group.id, user.id, me.id, now);
          const invited = [...invitees.values()].map((user) => line(group.id, me, { kind: 'invited', user: user.name }));
          return { result: group, events: [line(group.id, me, { kind: 'created', name }), ...invited] };
        }),
      );
      const info = await groupInfo(store, group);
      log.info('group created', { user: me.name, group: info.name, invited: info.invited.length });
      fanOut.pushGroup([me.id], { type: 'group', group: info }, session);
      await announceInvitations(invitees.keys());
      await pushLines(lines);
      return { group: info };
    }),

    groupRename: (session, request) => changing(async () => {
      const me = session.user;
      const group = await ownedGroup(store, me, request.groupId);
      refuseMuted(ctx, me);
      const name = checkedName(request.name);
      const { lines } = await uniquely(name, () =>
        store.changeGroups(ctx.clock.now(), async (tx) => {
          await tx.renameGroup(group.id, name, nameKey(name));
          return { result: null, events: name === group.name ? [] : [line(group.id, me, { kind: 'renamed', name })] };
        }),
      );
      const info = await announceGroup(session, group.id);
      await announceInvitations(await store.invitedIds(group.id));
      await pushLines(lines);
      return { group: info };
    }),

    groupDelete: (session, request) => changing(async () => {
      const group = await ownedGroup(store, session.user, request.groupId);
      const members = await store.memberIds(group.id);
      const invited = await store.invitedIds(group.id);
      await store.deleteGroup(group.id);
      purgeDeleted(ctx);
      fanOut.end({ conv: groupConversation(group.id) }, GROUP_GONE);
      log.info('group deleted', { user: session.user.name, group: group.name });
      fanOut.push(members, { type: 'groupRemoved', groupId: group.id, name: group.name, reason: 'deleted' }, session);
      await announceInvitations(invited);
      return {};
    }),

    groupAddMember: (session, request) => changing(async () => {
      const me = session.user;
      const group = await ownedGroup(store, me, request.groupId);
      refuseMuted(ctx, me);
      const user = await userNamed(store, request.user);
      const invitation = await store.invitation(group.id, user.id);
      if ((await store.isMember(group.id, user.id)) || invitation?.state === 'pending') return { group: await groupInfo(store, group) };
      await refuseChatDeclined(me, user);
      if (invitation?.state === 'declined') {
        throw new ServerError(ErrorCode.INVITATION_DECLINED, `${user.name} declined to be in ${group.name} or left it`);
      }
      await refuseOverLimit(group, 1);
      const { lines } = await store.changeGroups(ctx.clock.now(), async (tx) => {
        await tx.invite(group.id, user.id, me.id, ctx.clock.now());
        return { result: null, events: [line(group.id, me, { kind: 'invited', user: user.name })] };
      });
      log.info('group invitation', { user: me.name, group: group.name, invited: user.name });
      const info = await announceGroup(session, group.id);
      await announceInvitations([user.id]);
      await pushLines(lines);
      return { group: info };
    }),

    groupRemoveMember: (session, request) => changing(async () => {
      const me = session.user;
      const group = await memberGroup(store, me, request.groupId);
      const user = await userNamed(store, request.user);
      if (user.id !== me.id && group.ownerId !== me.id) {
        throw new ServerError(ErrorCode.NOT_GROUP_OWNER, `only the owner of ${group.name} can remove others`);
      }
      if (user.id === group.ownerId) {
        throw new ServerError(ErrorCode.INVALID_TARGET, 'the owner cannot leave the group; delete it instead');
      }
      if ((await store.invitation(group.id, user.id))?.state === 'pending') {
        await store.deleteInvitation(group.id, user.id);
        log.info('group invitation withdrawn', { user: me.name, group: group.name, invited: user.name });
        await announceInvitations([user.id]);
        return { group: await announceGroup(session, group.id) };
      }
      if (!(await store.isMember(group.id, user.id))) {
        throw new ServerError(ErrorCode.NOT_GROUP_MEMBER, `${user.name} is not in ${group.name}`);
      }
      const left = user.id === me.id;
      const now = ctx.clock.now();
      const { lines } = await store.changeGroups(now, async (tx) => {
        await tx.removeMember(group.id, user.id);
        // Leaving says no to the group: its owner cannot invite them back (issue 10 item 10).
        if (left) await tx.declineInvitation(group.id, me.id, group.ownerId, now);
        return { result: null, events: [left ? line(group.id, me, { kind: 'left' }) : line(group.id, me, { kind: 'removed', user: user.name })] };
      });
      fanOut.end({ conv: groupConversation(group.id), userId: user.id }, GROUP_GONE);
      fanOut.push([user.id], { type: 'groupRemoved', groupId: group.id, name: group.name, reason: 'removed' }, session);
      const info = await announceGroup(session, group.id);
      await pushLines(lines);
      return { group: info };
    }),

    groupInfo: async (session, request) => ({ group: await groupInfo(store, await memberGroup(store, session.user, request.groupId)) }),

    groupInvitations: async (session) => ({ invitations: await invitationsOf(session.user.id) }),

    groupAnswer: (session, request) => changing(async () => {
      const me = session.user;
      const group = await store.groupById(request.groupId);
      const invitation = await store.invitation(request.groupId, me.id);
      if (!group || invitation?.state !== 'pending') {
        throw new ServerError(ErrorCode.UNKNOWN_GROUP, `you have no invitation to a group with id ${request.groupId}`);
      }
      const now = ctx.clock.now();
      if (!request.accept) {
        await store.declineInvitation(group.id, me.id, invitation.inviterId, now);
        log.info('group invitation answered', { user: me.name, group: group.name, accepted: false });
        await announceGroup(session, group.id);
        await announceInvitations([me.id]);
        return {};
      }
      const { lines } = await store.changeGroups(now, async (tx) => {
        await tx.deleteInvitation(group.id, me.id);
        await tx.addMember(group.id, me.id);
        return { result: null, events: [line(group.id, me, { kind: 'joined' })] };
      });
      log.info('group invitation answered', { user: me.name, group: group.name, accepted: true });
      const info = await announceGroup(session, group.id);
      await announceInvitations([me.id]);
      await pushLines(lines);
      return { group: info };
    }),
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
