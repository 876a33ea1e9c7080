import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM } from '../../src-shared/protocol/conversation.js';
import type { SliceCreator } from './types.js';

export interface ConversationsData {
  activeConv: ConversationKey | null;
  unread: Record<ConversationKey, number>;
  /** The other party of each direct conversation seen in messages, by conversation key. */
  dmPeers: Record<ConversationKey, string>;
  /** The newest message known of each conversation: the sidebar's preview and its order. */
  latest: Record<ConversationKey, ChatMessage>;
}

export interface ConversationsSlice extends ConversationsData {
  /** Opens a conversation and marks it read. */
  setActiveConv(conv: ConversationKey | null): void;
  countUnread(conv: ConversationKey): void;
  nameDm(conv: ConversationKey, peer: string): void;
  /** Keeps the message as its conversation's newest when no newer one is known. */
  noteLatest(message: ChatMessage): void;
  forgetConversation(conv: ConversationKey): void;
}

declare module './types.js' {
  interface AppState extends ConversationsSlice {}
}

export const initialConversations: ConversationsData = { activeConv: null, unread: {}, dmPeers: {}, latest: {} };

export const createConversationsSlice: SliceCreator<ConversationsSlice> = (set) => ({
  ...initialConversations,
  setActiveConv: (conv) =>
    set((state) => {
      if (conv === null) return { activeConv: null };
      const { [conv]: _read, ...unread } = state.unread;
      const { [conv]: _mentions, ...mentionUnread } = state.mentionUnread;
      return { activeConv: conv, unread, mentionUnread };
    }),
  countUnread: (conv) => set((state) => ({ unread: { ...state.unread, [conv]: (state.unread[conv] ?? 0) + 1 } })),
  nameDm: (conv, peer) =>
    set((state) => (state.dmPeers[conv] === peer ? state : { dmPeers: { ...state.dmPeers, [conv]: peer } })),
  noteLatest: (message) =>
    set((state) =>
      (state.latest[message.conv]?.id ?? 0) >= message.id ? state : { latest: { ...state.latest, [message.conv]: message } },
    ),
  forgetConversation: (conv) =>
    set((state) => {
      const { [conv]: _unread, ...unread } = state.unread;
      const { [conv]: _timeline, ...timelines } = state.timelines;
      const { [conv]: _latest, ...latest } = state.latest;
      const { [conv]: _notices, ...notices } = state.notices;
      const { [conv]: _mentions, ...mentionUnread } = state.mentionUnread;
      return { unread, timelines, latest, notices, mentionUnread, activeConv: state.activeConv === conv ? ROOM : state.activeConv };
    }),
});
