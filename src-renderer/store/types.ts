import type { StateCreator } from 'zustand/vanilla';
import type { ConnectionSlice } from './connection.js';
import type { ConversationsSlice } from './conversations.js';
import type { GroupsSlice } from './groups.js';
import type { MessagesSlice } from './messages.js';
import type { PresenceSlice } from './presence.js';
import type { SearchSlice } from './search.js';
import type { UiSlice } from './ui.js';

export interface ResetSlice {
  /** Forgets everything learnt about the room (after leaving it or switching rooms or users). */
  resetRoom(): void;
}

export type AppState = ConnectionSlice &
  ConversationsSlice &
  MessagesSlice &
  SearchSlice &
  GroupsSlice &
  PresenceSlice &
  UiSlice &
  ResetSlice;

export type SliceCreator<Slice> = StateCreator<AppState, [], [], Slice>;
