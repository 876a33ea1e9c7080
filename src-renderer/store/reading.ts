import type { ReadState, Receipt } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { SliceCreator } from './types.js';

/** How far you and the others have read: unread counts, mentions, receipts and the "New messages" line. */
export interface ReadingData {
  /** Your read position per conversation: the server's read cursor, or where this window saw up to. */
  readUpTo: Record<ConversationKey, number>;
  /** Unread messages that mention you, per conversation. */
  mentionUnread: Record<ConversationKey, number>;
  /** Where the other readers of a direct chat or group have read up to, by name key. */
  receipts: Record<ConversationKey, Record<string, Receipt>>;
  /** The open conversation's "New messages" line goes after this message id. */
  divider: { conv: ConversationKey; after: number } | null;
  /** Whether your account sends read receipts (null: not asked yet). Off, you see none either. */
  sendReadReceipts: boolean | null;
}

export interface ReadingSlice extends ReadingData {
  /** The server's read state: positions and counts replace what was counted here. */
  setReadState(states: ReadState[]): void;
  /** Your position moved (here or on another device); it never moves back. */
  noteRead(conv: ConversationKey, upTo: number): void;
  countMention(conv: ConversationKey): void;
  setReceipts(conv: ConversationKey, receipts: Receipt[]): void;
  noteReceipt(conv: ConversationKey, receipt: Receipt): void;
  setDivider(divider: ReadingData['divider']): void;
  /** Turned off, the receipts held go at once. */
  setSendReadReceipts(on: boolean): void;
}

declare module './types.js' {
  interface AppState extends ReadingSlice {}
}

export const initialReading: ReadingData = { readUpTo: {}, mentionUnread: {}, receipts: {}, divider: null, sendReadReceipts: null };

const withCount = (counts: Record<ConversationKey, number>, conv: ConversationKey, count: number) => {
  const { [conv]: _old, ...rest } = counts;
  return count > 0 ? { ...rest, [conv]: count } : rest;
};

export const createReadingSlice: SliceCreator<ReadingSlice> = (set) => ({
  ...initialReading,
  setReadState: (states) =>
    set((state) => {
      let { unread, mentionUnread } = state;
      const readUpTo = { ...state.readUpTo };
      for (const entry of states) {
        readUpTo[entry.conv] = Math.max(readUpTo[entry.conv] ?? 0, entry.upTo);
        // The open conversation is being read: it counts nothing.
        const open = entry.conv === state.activeConv;
        unread = withCount(unread, entry.conv, open ? 0 : entry.unread);
        mentionUnread = withCount(mentionUnread, entry.conv, open ? 0 : entry.mentions);
      }
      return { readUpTo, unread, mentionUnread };
    }),
  noteRead: (conv, upTo) =>
    set((state) => {
      if ((state.readUpTo[conv] ?? 0) >= upTo) return state;
      const readUpTo = { ...state.readUpTo, [conv]: upTo };
      // Read up to the newest known message: nothing is left unread.
      if ((state.latest[conv]?.id ?? 0) > upTo) return { readUpTo };
      return { readUpTo, unread: withCount(state.unread, conv, 0), mentionUnread: withCount(state.mentionUnread, conv, 0) };
    }),
  countMention: (conv) => set((state) => ({ mentionUnread: withCount(state.mentionUnread, conv, (state.mentionUnread[conv] ?? 0) + 1) })),
  setReceipts: (conv, receipts) =>
    set((state) => {
      if (state.sendReadReceipts === false) return state;
      return { receipts: { ...state.receipts, [conv]: Object.fromEntries(receipts.map((receipt) => [nameKey(receipt.user), receipt])) } };
    }),
  noteReceipt: (conv, receipt) =>
    set((state) => {
      if (state.sendReadReceipts === false) return state;
      const held = state.receipts[conv] ?? {};
      if ((held[nameKey(receipt.user)]?.upTo ?? 0) >= receipt.upTo) return state;
      return { receipts: { ...state.receipts, [conv]: { ...held, [nameKey(receipt.user)]: receipt } } };
    }),
  setDivider: (divider) => set({ divider }),
  setSendReadReceipts: (on) => set(on ? { sendReadReceipts: true } : { sendReadReceipts: false, receipts: {} }),
});
