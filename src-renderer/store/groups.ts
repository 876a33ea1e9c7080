import type { GroupInfo, GroupInvitation } from '../../src-shared/protocol/objects.js';
import type { SliceCreator } from './types.js';

export interface GroupsData {
  groups: Record<number, GroupInfo>;
  /** Invitations to groups you have not answered, oldest first. */
  invitations: GroupInvitation[];
}

export interface GroupsSlice extends GroupsData {
  setGroups(groups: GroupInfo[]): void;
  upsertGroup(group: GroupInfo): void;
  removeGroup(groupId: number): void;
  setInvitations(invitations: GroupInvitation[]): void;
}

declare module './types.js' {
  interface AppState extends GroupsSlice {}
}

export const initialGroups: GroupsData = { groups: {}, invitations: [] };

export const createGroupsSlice: SliceCreator<GroupsSlice> = (set) => ({
  ...initialGroups,
  setGroups: (groups) => set({ groups: Object.fromEntries(groups.map((group) => [group.id, group])) }),
  upsertGroup: (group) => set((state) => ({ groups: { ...state.groups, [group.id]: group } })),
  removeGroup: (groupId) =>
    set((state) => {
      const { [groupId]: _removed, ...groups } = state.groups;
      return { groups };
    }),
  setInvitations: (invitations) => set({ invitations }),
});
