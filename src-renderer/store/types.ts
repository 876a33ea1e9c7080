import type { StateCreator } from 'zustand/vanilla';
import type { ContactsSlice } from './contacts.js';
import type { ConversationsSlice } from './conversations.js';
import type { FilesSlice } from './files.js';
import type { GroupsSlice } from './groups.js';
import type { HostAdminSlice } from './host-admin.js';
import type { MessagesSlice } from './messages.js';
import type { ReadingSlice } from './reading.js';
import type { SearchSlice } from './search.js';
import type { SessionSlice } from './session.js';
import type { TypingSlice } from './typing.js';
import type { UiSlice } from './ui.js';
import type { UsersSlice } from './users.js';

export interface ResetSlice {
  /** Forgets everything learnt about the room (after leaving it or switching rooms or users). */
  resetRoom(): void;
}

export type AppState = SessionSlice &
  HostAdminSlice &
  ConversationsSlice &
  MessagesSlice &
  SearchSlice &
  GroupsSlice &
  UsersSlice &
  ContactsSlice &
  UiSlice &
  ReadingSlice &
  TypingSlice &
  FilesSlice &
  ResetSlice;

/** Each slice sees the whole store (zustand's slices pattern) and returns its own part. */
export type SliceCreator<Slice> = StateCreator<AppState, [], [], Slice>;
