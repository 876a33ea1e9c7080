import { createStore, type StoreApi } from 'zustand/vanilla';
import { createConnectionSlice, initialHostData } from './connection.js';
import { createConversationsSlice, initialConversations } from './conversations.js';
import { createGroupsSlice, initialGroups } from './groups.js';
import { createMessagesSlice, initialMessages } from './messages.js';
import { createPresenceSlice, initialPresence } from './presence.js';
import { createSearchSlice, initialSearch } from './search.js';
import type { AppState } from './types.js';
import { createUiSlice } from './ui.js';

export type { AppState } from './types.js';
export type AppStore = StoreApi<AppState>;

export function createAppStore(): AppStore {
  return createStore<AppState>()((...args) => ({
    ...createConnectionSlice(...args),
    ...createConversationsSlice(...args),
    ...createMessagesSlice(...args),
    ...createSearchSlice(...args),
    ...createGroupsSlice(...args),
    ...createPresenceSlice(...args),
    ...createUiSlice(...args),
    resetRoom: () =>
      args[0]({
        ...initialHostData,
        ...initialConversations,
        ...initialMessages,
        ...initialSearch,
        ...initialGroups,
        ...initialPresence,
      }),
  }));
}
