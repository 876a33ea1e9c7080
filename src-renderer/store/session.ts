import type { AppError, SessionView } from '../../src-shared/api.js';
import { OFFLINE_SESSION } from '../lib/session.js';
import type { SliceCreator } from './types.js';

/** How this window last left a room, for the start screen to say what happens next. */
export interface RoomExit {
  /** `left`: the room and its session are kept (the next start rejoins); `signedOut`: both forgotten. */
  kind: 'left' | 'signedOut';
  room: string;
}

/** Who you are, in which room, and how the connection is. */
export interface SessionSlice {
  session: SessionView;
  /** The latest connection error, kept after the session recovers or ends. */
  lastError: AppError | null;
  /** Set by leaving or signing out; cleared once in a room again. */
  exit: RoomExit | null;
  setSession(session: SessionView): void;
  clearLastError(): void;
  setExit(exit: RoomExit): void;
}

declare module './types.js' {
  interface AppState extends SessionSlice {}
}

export const createSessionSlice: SliceCreator<SessionSlice> = (set) => ({
  session: OFFLINE_SESSION,
  lastError: null,
  exit: null,
  setSession: (session) =>
    set((state) => ({ session, lastError: session.error ?? state.lastError, exit: session.me !== null ? null : state.exit })),
  clearLastError: () => set({ lastError: null }),
  setExit: (exit) => set({ exit }),
});
