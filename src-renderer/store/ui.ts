import type { Settings } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { SliceCreator } from './types.js';

export interface UiSlice {
  /** Null until the app answered; theme and language follow the system meanwhile. */
  settings: Settings | null;
  /** Set when this window shows one popped-out conversation. */
  chatWindowConv: ConversationKey | null;
  hostPanelOpen: boolean;
  setSettings(settings: Settings): void;
  setChatWindowConv(conv: ConversationKey | null): void;
  setHostPanelOpen(open: boolean): void;
}

export const createUiSlice: SliceCreator<UiSlice> = (set) => ({
  settings: null,
  chatWindowConv: null,
  hostPanelOpen: true,
  setSettings: (settings) => set({ settings }),
  setChatWindowConv: (chatWindowConv) => set({ chatWindowConv }),
  setHostPanelOpen: (hostPanelOpen) => set({ hostPanelOpen }),
});
