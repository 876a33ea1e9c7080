import type { UserInfo } from '../../src-shared/protocol/objects.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { SliceCreator } from './types.js';

/** Everyone with an account in the room, and whether they are online. */
export interface UsersData {
  /** By name key. */
  users: Record<string, UserInfo>;
}

export interface UsersSlice extends UsersData {
  setUsers(users: UserInfo[]): void;
  applyPresence(user: string, online: boolean, ts: number): void;
}

export const initialUsers: UsersData = { users: {} };

export const createUsersSlice: SliceCreator<UsersSlice> = (set) => ({
  ...initialUsers,
  setUsers: (users) => set({ users: Object.fromEntries(users.map((user) => [nameKey(user.name), user])) }),
  applyPresence: (user, online, ts) =>
    set((state) => {
      const key = nameKey(user);
      const known = state.users[key];
      return { users: { ...state.users, [key]: { name: known?.name ?? user, online, lastSeen: ts } } };
    }),
});
