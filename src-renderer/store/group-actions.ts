/** What the group screens ask of the app: create, rename, add and remove members, answer an invitation, leave, delete. */
import type { Result } from '../../src-shared/api.js';
import type { GroupInfo, GroupInvitation } from '../../src-shared/protocol/objects.js';
import { openConversation, type AppContext } from './sync.js';

function keepGroup(ctx: AppContext, result: Result<GroupInfo>): Result<GroupInfo> {
  if (result.ok) ctx.store.getState().upsertGroup(result.value);
  return result;
}

function dropGroup(ctx: AppContext, group: GroupInfo, result: Result<unknown>): void {
  if (!result.ok) return;
  const state = ctx.store.getState();
  state.removeGroup(group.id);
  state.forgetConversation(group.conv);
}

/** Creates a group and invites `members` to it. */
export async function createGroup(ctx: AppContext, name: string, members: string[] = []): Promise<Result<GroupInfo>> {
  const result = keepGroup(ctx, await ctx.api.groupCreate(name, members));
  if (result.ok) await openConversation(ctx, result.value.conv);
  return result;
}

export async function renameGroup(ctx: AppContext, group: GroupInfo, name: string): Promise<Result<GroupInfo>> {
  return keepGroup(ctx, await ctx.api.groupRename(group.id, name));
}

export async function addGroupMember(ctx: AppContext, group: GroupInfo, user: string): Promise<Result<GroupInfo>> {
  return keepGroup(ctx, await ctx.api.groupAddMember(group.id, user));
}

export async function removeGroupMember(ctx: AppContext, group: GroupInfo, user: string): Promise<Result<GroupInfo>> {
  return keepGroup(ctx, await ctx.api.groupRemoveMember(group.id, user));
}

/** Joins the group (and opens it) or declines; the invitation goes either way. */
export async function answerInvitation(ctx: AppContext, invitation: GroupInvitation, accept: boolean): Promise<Result<GroupInfo | null>> {
  const result = await ctx.api.groupAnswer(invitation.groupId, accept);
  if (!result.ok) return result;
  const state = ctx.store.getState();
  state.setInvitations(state.invitations.filter((other) => other.groupId !== invitation.groupId));
  if (result.value) {
    state.upsertGroup(result.value);
    await openConversation(ctx, result.value.conv);
  }
  return result;
}

export async function leaveGroup(ctx: AppContext, group: GroupInfo, me: string): Promise<Result<GroupInfo>> {
  const result = await ctx.api.groupRemoveMember(group.id, me);
  dropGroup(ctx, group, result);
  return result;
}

export async function deleteGroup(ctx: AppContext, group: GroupInfo): Promise<Result<void>> {
  const result = await ctx.api.groupDelete(group.id);
  dropGroup(ctx, group, result);
  return result;
}
