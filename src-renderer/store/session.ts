import type { AppError, HostBan, HostLogEntry, HostUser, PendingUser, SessionView } from '../../src-shared/api.js';
import { OFFLINE_SESSION } from '../lib/session.js';
import type { SliceCreator } from './types.js';

/** The server log view keeps this many recent entries. */
export const HOST_LOG_LIMIT = 1000;

export interface ConnectionData {
  session: SessionView;
  /** The latest connection error, kept after the session recovers or ends. */
  lastError: AppError | null;
  hostUsers: HostUser[];
  /** Accounts waiting for the host's approval. */
  hostPending: PendingUser[];
  hostBans: HostBan[];
  hostLog: HostLogEntry[];
}

export interface ConnectionSlice extends ConnectionData {
  setSession(session: SessionView): void;
  clearLastError(): void;
  setHostUsers(users: HostUser[]): void;
  setHostPending(users: PendingUser[]): void;
  setHostBans(bans: HostBan[]): void;
  setHostLog(entries: HostLogEntry[]): void;
  appendHostLog(entry: HostLogEntry): void;
}

export const initialHostData: Pick<ConnectionData, 'hostUsers' | 'hostPending' | 'hostBans' | 'hostLog'> = {
  hostUsers: [],
  hostPending: [],
  hostBans: [],
  hostLog: [],
};

export const createConnectionSlice: SliceCreator<ConnectionSlice> = (set) => ({
  session: OFFLINE_SESSION,
  lastError: null,
  ...initialHostData,
  setSession: (session) => set((state) => ({ session, lastError: session.error ?? state.lastError })),
  clearLastError: () => set({ lastError: null }),
  setHostUsers: (hostUsers) => set({ hostUsers }),
  setHostPending: (hostPending) => set({ hostPending }),
  setHostBans: (hostBans) => set({ hostBans }),
  setHostLog: (entries) => set({ hostLog: entries.slice(-HOST_LOG_LIMIT) }),
  appendHostLog: (entry) => set((state) => ({ hostLog: [...state.hostLog, entry].slice(-HOST_LOG_LIMIT) })),
});
