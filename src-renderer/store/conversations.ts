import { type ConversationKey, ROOM } from '../../src-shared/protocol/conversation.js';
import type { SliceCreator } from './types.js';

export interface ConversationsData {
  activeConv: ConversationKey | null;
  unread: Record<ConversationKey, number>;
  /** The other party of each direct conversation seen in messages, by conversation key. */
  dmPeers: Record<ConversationKey, string>;
}

export interface ConversationsSlice extends ConversationsData {
  /** Opens a conversation and marks it read. */
  setActiveConv(conv: ConversationKey | null): void;
  countUnread(conv: ConversationKey): void;
  nameDm(conv: ConversationKey, peer: string): void;
  forgetConversation(conv: ConversationKey): void;
}

export const initialConversations: ConversationsData = { activeConv: null, unread: {}, dmPeers: {} };

export const createConversationsSlice: SliceCreator<ConversationsSlice> = (set) => ({
  ...initialConversations,
  setActiveConv: (conv) =>
    set((state) => {
      if (conv === null) return { activeConv: null };
      const { [conv]: _read, ...unread } = state.unread;
      return { activeConv: conv, unread };
    }),
  countUnread: (conv) => set((state) => ({ unread: { ...state.unread, [conv]: (state.unread[conv] ?? 0) + 1 } })),
  nameDm: (conv, peer) =>
    set((state) => (state.dmPeers[conv] === peer ? state : { dmPeers: { ...state.dmPeers, [conv]: peer } })),
  forgetConversation: (conv) =>
    set((state) => {
      const { [conv]: _unread, ...unread } = state.unread;
      const { [conv]: _timeline, ...timelines } = state.timelines;
      return { unread, timelines, activeConv: state.activeConv === conv ? ROOM : state.activeConv };
    }),
});
