import { createStore, type StoreApi } from 'zustand/vanilla';
import { createCallsSlice, initialCalls } from './calls.js';
import { createContactsSlice, initialContacts } from './contacts.js';
import { createConversationsSlice, initialConversations } from './conversations.js';
import { createFilesSlice, initialFiles } from './files.js';
import { createGroupsSlice, initialGroups } from './groups.js';
import { createHostAdminSlice, initialHostAdmin } from './host-admin.js';
import { createMessagesSlice, initialMessages } from './messages.js';
import { createReadingSlice, initialReading } from './reading.js';
import { createSearchSlice, initialSearch } from './search.js';
import { createSessionSlice } from './session.js';
import { createTypingSlice, initialTyping } from './typing.js';
import type { AppState } from './types.js';
import { createUiSlice, initialRoomUi } from './ui.js';
import { createUsersSlice, initialUsers } from './users.js';

export type { AppState } from './types.js';
export type AppStore = StoreApi<AppState>;

export function createAppStore(): AppStore {
  return createStore<AppState>()((...args) => ({
    ...createSessionSlice(...args),
    ...createHostAdminSlice(...args),
    ...createConversationsSlice(...args),
    ...createMessagesSlice(...args),
    ...createSearchSlice(...args),
    ...createGroupsSlice(...args),
    ...createUsersSlice(...args),
    ...createContactsSlice(...args),
    ...createUiSlice(...args),
    ...createReadingSlice(...args),
    ...createTypingSlice(...args),
    ...createFilesSlice(...args),
    ...createCallsSlice(...args),
    resetRoom: () =>
      args[0]({
        ...initialHostAdmin,
        ...initialConversations,
        ...initialMessages,
        ...initialSearch,
        ...initialGroups,
        ...initialUsers,
        ...initialContacts,
        ...initialRoomUi,
        ...initialReading,
        ...initialTyping,
        ...initialFiles,
        ...initialCalls,
      }),
  }));
}
