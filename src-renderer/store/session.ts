import type { AppError, SessionView } from '../../src-shared/api.js';
import { OFFLINE_SESSION } from '../lib/session.js';
import type { SliceCreator } from './types.js';

/** Who you are, in which room, and how the connection is. */
export interface SessionSlice {
  session: SessionView;
  /** The latest connection error, kept after the session recovers or ends. */
  lastError: AppError | null;
  setSession(session: SessionView): void;
  clearLastError(): void;
}

export const createSessionSlice: SliceCreator<SessionSlice> = (set) => ({
  session: OFFLINE_SESSION,
  lastError: null,
  setSession: (session) => set((state) => ({ session, lastError: session.error ?? state.lastError })),
  clearLastError: () => set({ lastError: null }),
});
