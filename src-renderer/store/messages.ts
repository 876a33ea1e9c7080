import type { AppError, AppEvent, OutboxStatus, UnsentMessage } from '../../src-shared/api.js';
import type { Page, ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM } from '../../src-shared/protocol/conversation.js';
import { withChangedMessage } from '../../src-shared/message-changes.js';
import type { SliceCreator } from './types.js';

/** The loaded stretch of one conversation: one contiguous run of messages, oldest first. */
export interface Timeline {
  messages: ChatMessage[];
  /** The newest page has been fetched (before that, only live messages are held). */
  loaded: boolean;
  /** Older messages exist on the server. */
  hasMore: boolean;
  /** The run is an older stretch (opened from a search hit); newer messages are not loaded. */
  hasNewer: boolean;
  loadingOlder: boolean;
}

export const EMPTY_TIMELINE: Timeline = {
  messages: [],
  loaded: false,
  hasMore: false,
  hasNewer: false,
  loadingOlder: false,
};

/** One of your own messages as the outbox reports it. */
export interface OutboxEntry {
  clientMsgId: string;
  target: Target;
  text: string;
  ts: number;
  status: OutboxStatus;
  error: AppError | null;
  /** Queued, but gone out once already: it may be stored, and it can no longer be cancelled. */
  tried: boolean;
}

export type OutboxEvent = Extract<AppEvent, { type: 'outbox' }>;

/**
 * A line this window adds to a conversation about a change rather than a message: "alice joined"
 * in the room, "bob ended the chat" in a direct one. A group's lines come from the server, as
 * messages with a groupEvent.
 */
/**
 * A line the app writes into a conversation: someone joined or left the room, a direct chat ended, or (in the room)
 * a group of yours ended for you, deleted by its owner or left behind (`user` is then the group's name).
 */
export type Notice = { kind: 'joined' | 'left' | 'chatEnded' | 'groupDeleted' | 'groupLeft' | 'e2eeUnreachable' | 'devicesChanged'; user: string; ts: number };

/** Each conversation keeps at most this many notices. */
export const NOTICE_LIMIT = 500;
/**
 * A conversation holds at most this many messages in memory before it keeps only the newest
 * HELD_KEEP (the older are paged back in from the host on demand): a client left open for days in
 * a busy room grew without bound, copying the whole list for every message that came.
 */
export const HELD_MAX = 600;
export const HELD_KEEP = 400;

export interface MessagesData {
  timelines: Record<ConversationKey, Timeline>;
  outbox: Record<string, OutboxEntry>;
  /** Your direct messages up to this id reached the other side, by conversation. */
  deliveredUpTo: Record<ConversationKey, number>;
  notices: Record<ConversationKey, Notice[]>;
  /** The message a search hit pointed at. */
  highlight: { conv: ConversationKey; id: number } | null;
}

export interface MessagesSlice extends MessagesData {
  addMessage(message: ChatMessage): void;
  /**
   * A held message as it is now (edited, deleted, reacted to): it replaces the copy held,
   * the sidebar's preview if it is the newest, and the quote of it in held replies.
   */
  replaceMessage(message: ChatMessage): void;
  updateOutbox(event: OutboxEvent): void;
  restoreUnsent(items: UnsentMessage[], now: number): void;
  /** Forgets a message the host refused (the user removed it, or sent it again under a new id). */
  removeOutbox(clientMsgId: string): void;
  markDelivered(conv: ConversationKey, upTo: number): void;
  prependPage(conv: ConversationKey, page: Page): void;
  mergeLatestPage(conv: ConversationKey, page: Page): void;
  showOlderStretch(conv: ConversationKey, page: Page): void;
  setLoadingOlder(conv: ConversationKey, loading: boolean): void;
  /** In one update, however many: a host's restart brings hundreds of joins in one push. */
  addNotices(conv: ConversationKey, notices: Notice[]): void;
  /** Keeps the newest HELD_KEEP once over HELD_MAX: for the conversation on screen, whose list knows when the reader is at the newest. */
  holdNewest(conv: ConversationKey): void;
  setHighlight(highlight: MessagesData['highlight']): void;
}

declare module './types.js' {
  interface AppState extends MessagesSlice {}
}

export const initialMessages: MessagesData = {
  timelines: {},
  outbox: {},
  deliveredUpTo: {},
  notices: {},
  highlight: null,
};

/** Failed and sent are both final for a queued message; delivered only follows sent. */
const STATUS_RANK: Record<OutboxStatus, number> = { queued: 0, sent: 1, failed: 1, delivered: 2 };

/** Index of the message with `id`, or of where it would go, in a list sorted by id. */
function searchById(messages: ChatMessage[], id: number): number {
  let low = 0;
  let high = messages.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (messages[middle]!.id < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function findMessage(messages: ChatMessage[], id: number): ChatMessage | undefined {
  const found = messages[searchById(messages, id)];
  return found?.id === id ? found : undefined;
}

/** Returns the same array when the message is already there. */
function insertById(messages: ChatMessage[], message: ChatMessage): ChatMessage[] {
  const index = searchById(messages, message.id);
  if (messages[index]?.id === message.id) return messages;
  return [...messages.slice(0, index), message, ...messages.slice(index)];
}

/** The timeline with only its newest HELD_KEEP messages once it holds more than HELD_MAX; the same one otherwise. */
function heldNewest(timeline: Timeline): Timeline {
  if (timeline.messages.length <= HELD_MAX) return timeline;
  return { ...timeline, messages: timeline.messages.slice(-HELD_KEEP), hasMore: true };
}

/** Merges two lists sorted by id, each id once. */
function mergeById(a: ChatMessage[], b: ChatMessage[]): ChatMessage[] {
  const merged: ChatMessage[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left.id < right.id)) {
      merged.push(left!);
      i++;
    } else if (left === undefined || right.id < left.id) {
      merged.push(right);
      j++;
    } else {
      merged.push(left);
      i++;
      j++;
    }
  }
  return merged;
}

export const createMessagesSlice: SliceCreator<MessagesSlice> = (set) => {
  const updateTimeline = (conv: ConversationKey, update: (timeline: Timeline) => Timeline) =>
    set((state) => {
      const timeline = state.timelines[conv] ?? EMPTY_TIMELINE;
      const next = update(timeline);
      return next === timeline ? state : { timelines: { ...state.timelines, [conv]: next } };
    });

  return {
    ...initialMessages,

    addMessage: (message) =>
      set((state) => {
        const timeline = state.timelines[message.conv] ?? EMPTY_TIMELINE;
        const newest = timeline.messages.at(-1);
        // Appending to an older stretch would hide the gap before the new message.
        if (timeline.hasNewer && newest !== undefined && message.id > newest.id) return state;
        const messages = insertById(timeline.messages, message);
        if (messages === timeline.messages) return state;
        const grown = { ...timeline, messages };
        // Only off screen: the reader of the conversation on screen may be reading its oldest (MessageList cuts it).
        const next = message.conv === (state.activeConv ?? ROOM) ? grown : heldNewest(grown);
        return { timelines: { ...state.timelines, [message.conv]: next } };
      }),

    replaceMessage: (message) =>
      set((state) => {
        const timeline = state.timelines[message.conv];
        const latest = state.latest[message.conv]?.id === message.id ? { latest: { ...state.latest, [message.conv]: message } } : {};
        if (timeline === undefined) return latest;
        const messages = withChangedMessage(timeline.messages, message) as ChatMessage[];
        if (messages === timeline.messages) return latest;
        return { ...latest, timelines: { ...state.timelines, [message.conv]: { ...timeline, messages } } };
      }),

    updateOutbox: (event) =>
      set((state) => {
        const current = state.outbox[event.clientMsgId];
        // A queued message may be reported again, with why it has not been stored yet.
        const again = current?.status === 'queued' && event.status === 'queued';
        if (current && !again && STATUS_RANK[event.status] <= STATUS_RANK[current.status]) return state;
        const entry: OutboxEntry = {
          clientMsgId: event.clientMsgId,
          target: event.target,
          text: event.text,
          ts: current?.ts ?? event.ts,
          status: event.status,
          error: event.error ?? null,
          tried: event.tried === true || current?.tried === true,
        };
        return { outbox: { ...state.outbox, [event.clientMsgId]: entry } };
      }),

    restoreUnsent: (items, now) =>
      set((state) => {
        const fresh = items.filter((item) => !state.outbox[item.clientMsgId]);
        if (fresh.length === 0) return state;
        const outbox = { ...state.outbox };
        for (const { clientMsgId, target, text, error, tried } of fresh)
          outbox[clientMsgId] = { clientMsgId, target, text, ts: now, status: 'queued', error: error ?? null, tried: tried === true };
        return { outbox };
      }),

    removeOutbox: (clientMsgId) =>
      set((state) => {
        if (!state.outbox[clientMsgId]) return state;
        const { [clientMsgId]: _removed, ...outbox } = state.outbox;
        return { outbox };
      }),

    markDelivered: (conv, upTo) =>
      set((state) =>
        (state.deliveredUpTo[conv] ?? 0) >= upTo ? state : { deliveredUpTo: { ...state.deliveredUpTo, [conv]: upTo } },
      ),

    prependPage: (conv, page) =>
      updateTimeline(conv, (timeline) => ({
        ...timeline,
        messages: mergeById(page.messages, timeline.messages),
        hasMore: page.hasMore,
        loadingOlder: false,
      })),

    mergeLatestPage: (conv, page) =>
      updateTimeline(conv, (timeline) => {
        const newestHeld = timeline.messages.at(-1);
        const oldestFetched = page.messages[0];
        const oldestHeld = timeline.messages[0];
        const gap =
          timeline.hasNewer ||
          (newestHeld !== undefined && oldestFetched !== undefined && page.hasMore && oldestFetched.id > newestHeld.id);
        if (gap) return { ...EMPTY_TIMELINE, messages: page.messages, loaded: true, hasMore: page.hasMore };
        const pageReachesFurther = oldestHeld === undefined || (oldestFetched !== undefined && oldestFetched.id <= oldestHeld.id);
        return {
          ...timeline,
          messages: mergeById(timeline.messages, page.messages),
          loaded: true,
          hasMore: pageReachesFurther || !timeline.loaded ? page.hasMore : timeline.hasMore,
        };
      }),

    showOlderStretch: (conv, page) =>
      updateTimeline(conv, () => ({ ...EMPTY_TIMELINE, messages: page.messages, loaded: true, hasMore: page.hasMore, hasNewer: true })),

    setLoadingOlder: (conv, loading) =>
      updateTimeline(conv, (timeline) => (timeline.loadingOlder === loading ? timeline : { ...timeline, loadingOlder: loading })),

    addNotices: (conv, notices) =>
      set((state) => ({ notices: { ...state.notices, [conv]: [...(state.notices[conv] ?? []), ...notices].slice(-NOTICE_LIMIT) } })),

    setHighlight: (highlight) => set({ highlight }),

    holdNewest: (conv) => updateTimeline(conv, heldNewest),
  };
};
