import type { GroupInfo } from '../../src-shared/protocol/objects.js';
import type { SliceCreator } from './types.js';

export interface GroupsData {
  groups: Record<number, GroupInfo>;
}

export interface GroupsSlice extends GroupsData {
  setGroups(groups: GroupInfo[]): void;
  upsertGroup(group: GroupInfo): void;
  removeGroup(groupId: number): void;
}

export const initialGroups: GroupsData = { groups: {} };

export const createGroupsSlice: SliceCreator<GroupsSlice> = (set) => ({
  ...initialGroups,
  setGroups: (groups) => set({ groups: Object.fromEntries(groups.map((group) => [group.id, group])) }),
  upsertGroup: (group) => set((state) => ({ groups: { ...state.groups, [group.id]: group } })),
  removeGroup: (groupId) =>
    set((state) => {
      const { [groupId]: _removed, ...groups } = state.groups;
      return { groups };
    }),
});
