import type { Settings } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import type { SliceCreator } from './types.js';

/** The side drawer over the conversation: its details (members, actions) or the host's room settings. */
export type Drawer = 'details' | 'roomSettings' | null;

/** The composer answers a message or edits one of yours. */
export interface Compose {
  mode: 'reply' | 'edit';
  message: ChatMessage;
}

export interface RoomUiData {
  drawer: Drawer;
  compose: Compose | null;
  /** Narrow windows only: the conversation list shown over the conversation. */
  sidebarOpen: boolean;
  /** A conversation opened from the list or by a shortcut: its composer takes the focus once it shows. */
  composerFocus: ConversationKey | null;
  /** What was typed and not sent in a conversation left for another, given back on coming back. */
  drafts: Partial<Record<ConversationKey, string>>;
}

export interface UiSlice extends RoomUiData {
  /** Null until the app answered; theme and language follow the system meanwhile. */
  settings: Settings | null;
  /** Set when this window shows one popped-out conversation. */
  chatWindowConv: ConversationKey | null;
  setSettings(settings: Settings): void;
  setChatWindowConv(conv: ConversationKey | null): void;
  setDrawer(drawer: Drawer): void;
  setSidebarOpen(open: boolean): void;
  setCompose(compose: Compose | null): void;
  focusComposer(conv: ConversationKey | null): void;
  setDraft(conv: ConversationKey, text: string): void;
}

declare module './types.js' {
  interface AppState extends UiSlice {}
}

export const initialRoomUi: RoomUiData = { drawer: null, sidebarOpen: false, compose: null, composerFocus: null, drafts: {} };

export const createUiSlice: SliceCreator<UiSlice> = (set) => ({
  ...initialRoomUi,
  settings: null,
  chatWindowConv: null,
  setSettings: (settings) => set({ settings }),
  setChatWindowConv: (chatWindowConv) => set({ chatWindowConv }),
  setDrawer: (drawer) => set({ drawer }),
  setSidebarOpen: (sidebarOpen) => set({ sidebarOpen }),
  setCompose: (compose) => set({ compose }),
  focusComposer: (composerFocus) => set({ composerFocus }),
  setDraft: (conv, text) =>
    set((state) => {
      if ((state.drafts[conv] ?? '') === text) return state;
      const { [conv]: _old, ...drafts } = state.drafts;
      return { drafts: text === '' ? drafts : { ...drafts, [conv]: text } };
    }),
});
