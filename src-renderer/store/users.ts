import type { UserInfo } from '../../src-shared/protocol/objects.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { PresenceState } from '../../src-shared/protocol/pushes.js';
import type { SliceCreator } from './types.js';

/** Everyone with an account in the room, and whether they are online. */
export interface UsersData {
  /** By name key. */
  users: Record<string, UserInfo>;
}

export interface UsersSlice extends UsersData {
  setUsers(users: UserInfo[]): void;
  /** The states of a `presence` push, in its order: a user's last one stands. */
  applyPresence(states: readonly PresenceState[]): void;
}

declare module './types.js' {
  interface AppState extends UsersSlice {}
}

export const initialUsers: UsersData = { users: {} };

export const createUsersSlice: SliceCreator<UsersSlice> = (set) => ({
  ...initialUsers,
  setUsers: (users) => set({ users: Object.fromEntries(users.map((user) => [nameKey(user.name), user])) }),
  applyPresence: (states) =>
    set((state) => {
      const users = { ...state.users };
      for (const { user, online, ts } of states) {
        const key = nameKey(user);
        users[key] = { name: users[key]?.name ?? user, online, lastSeen: ts };
      }
      return { users };
    }),
});
