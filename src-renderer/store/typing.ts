import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { SliceCreator } from './types.js';

/** Who is typing where, until when (never stored by anyone). */
export interface TypingData {
  /** By conversation, then name key. */
  typing: Record<ConversationKey, Record<string, { user: string; until: number }>>;
}

export interface TypingSlice extends TypingData {
  noteTyping(conv: ConversationKey, user: string, until: number): void;
  /** Their message came, or the time ran out. */
  stopTyping(conv: ConversationKey, user: string): void;
  expireTyping(now: number): void;
}

declare module './types.js' {
  interface AppState extends TypingSlice {}
}

export const initialTyping: TypingData = { typing: {} };

export const createTypingSlice: SliceCreator<TypingSlice> = (set) => ({
  ...initialTyping,
  noteTyping: (conv, user, until) =>
    set((state) => ({ typing: { ...state.typing, [conv]: { ...state.typing[conv], [nameKey(user)]: { user, until } } } })),
  stopTyping: (conv, user) =>
    set((state) => {
      const held = state.typing[conv];
      if (held?.[nameKey(user)] === undefined) return state;
      const { [nameKey(user)]: _gone, ...rest } = held;
      return { typing: { ...state.typing, [conv]: rest } };
    }),
  expireTyping: (now) =>
    set((state) => {
      let changed = false;
      const typing: TypingData['typing'] = {};
      for (const [conv, users] of Object.entries(state.typing)) {
        const left = Object.entries(users).filter(([, entry]) => entry.until > now);
        changed ||= left.length !== Object.keys(users).length;
        if (left.length > 0) typing[conv] = Object.fromEntries(left);
      }
      return changed ? { typing } : state;
    }),
});
