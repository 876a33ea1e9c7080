import type { HostBan, HostLogEntry, HostUser, PendingUser } from '../../src-shared/api.js';
import type { SliceCreator } from './types.js';

/** The server log view keeps this many recent entries. */
export const HOST_LOG_LIMIT = 1000;

/** What the host sees of the room it runs: connections, waiting accounts, bans, the log. */
export interface HostAdminData {
  hostUsers: HostUser[];
  /** Accounts waiting for the host's approval. */
  hostPending: PendingUser[];
  hostBans: HostBan[];
  hostLog: HostLogEntry[];
}

export interface HostAdminSlice extends HostAdminData {
  setHostUsers(users: HostUser[]): void;
  setHostPending(users: PendingUser[]): void;
  setHostBans(bans: HostBan[]): void;
  setHostLog(entries: HostLogEntry[]): void;
  appendHostLog(entry: HostLogEntry): void;
}

declare module './types.js' {
  interface AppState extends HostAdminSlice {}
}

export const initialHostAdmin: HostAdminData = { hostUsers: [], hostPending: [], hostBans: [], hostLog: [] };

export const createHostAdminSlice: SliceCreator<HostAdminSlice> = (set) => ({
  ...initialHostAdmin,
  setHostUsers: (hostUsers) => set({ hostUsers }),
  setHostPending: (hostPending) => set({ hostPending }),
  setHostBans: (hostBans) => set({ hostBans }),
  setHostLog: (entries) => set({ hostLog: entries.slice(-HOST_LOG_LIMIT) }),
  appendHostLog: (entry) => set((state) => ({ hostLog: [...state.hostLog, entry].slice(-HOST_LOG_LIMIT) })),
});
