import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { app, useApp, useConversationPeople } from '../app-context.js';
import { isEventLine } from '../lib/call-events.js';
import { buildTimeline, type TimelineItem } from '../lib/timeline.js';
import { EMPTY_TIMELINE, HELD_MAX, type MessagesData, type Notice } from '../store/messages.js';
import { ownStatus, pendingFor } from '../store/selectors.js';
import { loadOlder, markRead, showLatest } from '../store/sync.js';
import { TimelineRow } from './TimelineRow.js';
import { TakeToolbarTurn } from './toolbar-turn.js';

/** Closer to the top than this, the next older page is fetched. */
const LOAD_OLDER_WITHIN_PX = 300;
/** No view holds more rows than this; past it a list that still fits is a layout fault, not a short page. */
const FILL_VIEW_LIMIT = 200;
const ESTIMATED_HEIGHT: Record<TimelineItem['kind'], number> = { day: 36, notice: 28, presence: 28, message: 58, pending: 58, unread: 32 };
/** Within this of the end the view counts as at the newest message (what is there has been seen). */
const AT_END_PX = 48;
/** A message under the previous one's header is one line of text. */
const CONTINUED_HEIGHT = 22;

/** Close estimates keep the view still while older pages are measured in above it. */
function estimate(item: TimelineItem): number {
  return (item.kind === 'message' || item.kind === 'pending') && item.continued ? CONTINUED_HEIGHT : ESTIMATED_HEIGHT[item.kind];
}
const NO_NOTICES: Notice[] = [];

/** Whether the page is shown (not a hidden tab or a minimised window): only then is anything read. */
function usePageVisible(): boolean {
  return useSyncExternalStore(
    (changed) => {
      document.addEventListener('visibilitychange', changed);
      return () => document.removeEventListener('visibilitychange', changed);
    },
    () => document.visibilityState === 'visible',
  );
}

/**
 * The conversation's messages, virtualized: only the rows in view are in the
 * DOM however long the history. Opens at the newest message, follows new ones
 * while scrolled to the bottom, and keeps its place when older pages arrive.
 */
export function MessageList({ conv, emptyText }: { conv: ConversationKey; emptyText?: string | undefined }) {
  const { t } = useTranslation();
  const timeline = useApp((state) => state.timelines[conv]) ?? EMPTY_TIMELINE;
  const outbox = useApp((state) => state.outbox);
  const contacts = useApp((state) => state.contacts);
  const dmPeers = useApp((state) => state.dmPeers);
  const deliveredUpTo = useApp((state) => state.deliveredUpTo);
  const me = useApp((state) => state.session.me);
  const notices = useApp((state) => state.notices[conv] ?? NO_NOTICES);
  const highlight = useApp((state) => state.highlight);
  const readUpTo = useApp((state) => state.readUpTo[conv] ?? 0);
  const unreadAfter = useApp((state) => (state.divider?.conv === conv ? state.divider.after : null));
  const visible = usePageVisible();
  /** Set by scrolling; the view opens wherever the first page puts it. */
  const [atEnd, setAtEnd] = useState(false);
  const people = useConversationPeople(conv);

  const pending = useMemo(() => pendingFor({ outbox, contacts, dmPeers }, conv), [outbox, contacts, dmPeers, conv]);
  const { messages, hasMore, hasNewer, loaded, loadingOlder } = timeline;
  const items = useMemo(
    () => buildTimeline(messages, pending, notices, { hasMore, hasNewer }, me, unreadAfter),
    [messages, pending, notices, hasMore, hasNewer, me, unreadAfter],
  );

  const scrollRef = useRef<HTMLDivElement>(null);
  const [turnTaken, setTurnTaken] = useState<number | null>(null);
  /** The message whose toolbar is the list's tab stop: the one the keyboard was last in, else the newest. */
  const toolbarTurn = useMemo(() => {
    const withActions = messages.filter((message) => !message.deleted && !isEventLine(message));
    return withActions.some((message) => message.id === turnTaken) ? turnTaken : (withActions.at(-1)?.id ?? null);
  }, [messages, turnTaken]);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => estimate(items[index]!),
    getItemKey: (index) => items[index]!.key,
    overscan: 10,
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: 48,
  });

  /** Whether the view was put at the newest message once the first page came. */
  const placed = useRef(false);
  /** The same, for rendering: a view that fits without scrolling gets no scroll event to render again. */
  const [shownPlaced, setShownPlaced] = useState(false);
  /** Set when returning from an older stretch: the next rows replace it, so show their end. */
  const toEnd = useRef(false);
  /**
   * Whether new rows keep the view at the newest: it was there, and the reader has not scrolled up
   * since. The virtualizer's own following stopped halfway through a flood (hundreds of rows a
   * second, measured taller or shorter than estimated as they came) and left the reader mid-history.
   */
  const following = useRef(true);
  const lastScrollTop = useRef(0);
  useLayoutEffect(() => {
    if ((placed.current && !toEnd.current) || !loaded || items.length === 0) return;
    placed.current = true;
    setShownPlaced(true);
    toEnd.current = false;
    // With unread messages the view opens at the first of them, under "New messages".
    const divider = items.findIndex((item) => item.kind === 'unread');
    following.current = divider < 0;
    if (divider >= 0) virtualizer.scrollToIndex(divider, { align: 'start' });
    else virtualizer.scrollToIndex(items.length - 1, { align: 'end' });
  }, [loaded, items, virtualizer]);

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!placed.current || !following.current || hasNewer || items.length === 0 || element === null) return;
    if (element.scrollHeight - element.scrollTop - element.clientHeight >= AT_END_PX) virtualizer.scrollToIndex(items.length - 1, { align: 'end' });
  }, [items, hasNewer, virtualizer]);
  // While the reader follows the newest, what is far above goes as newer messages come (and comes
  // back when scrolled to); not when older ones were asked for, which would drop them again.
  const newestId = messages.at(-1)?.id;
  useEffect(() => {
    if (placed.current && following.current && !hasNewer && messages.length > HELD_MAX) app().store.getState().holdNewest(conv);
  }, [newestId, hasNewer, conv]);

  // What has been in view is read, while the page is shown: the newest message fully in view, or
  // at the end, the newest of all (one taller than the view is never wholly in it). An older
  // stretch (a search jump) reads nothing: what lies between it and your position was not seen.
  const newest = hasNewer ? undefined : messages.at(-1);
  const viewBottom = (virtualizer.scrollOffset ?? 0) + (virtualizer.scrollRect?.height ?? 0);
  let seenUpTo = 0;
  // Before the view is placed, the rows it shows are not where it opens.
  if (shownPlaced && newest !== undefined && atEnd) seenUpTo = newest.id;
  else if (shownPlaced && newest !== undefined) {
    for (const row of virtualizer.getVirtualItems()) {
      const item = items[row.index];
      if (item?.kind === 'message' && row.end <= viewBottom + 1) seenUpTo = Math.max(seenUpTo, item.message.id);
    }
  }
  useEffect(() => {
    if (!visible || seenUpTo <= readUpTo) return;
    markRead(app(), conv, seenUpTo);
  }, [visible, seenUpTo, readUpTo, conv]);
  /** Messages from others below the view not read yet: what "↓ N new" counts, oldest first. */
  const unseen = useMemo(
    () => (hasNewer ? [] : messages.filter((message) => message.id > Math.max(readUpTo, seenUpTo) && !sameName(message.from, me))),
    [hasNewer, messages, readUpTo, seenUpTo, me],
  );

  const shownHighlight = useRef<MessagesData['highlight']>(null);
  useEffect(() => {
    if (highlight === null || highlight.conv !== conv || shownHighlight.current === highlight) return;
    const index = items.findIndex((item) => item.kind === 'message' && item.message.id === highlight.id);
    if (index < 0) return;
    shownHighlight.current = highlight;
    virtualizer.scrollToIndex(index, { align: 'center' });
  }, [highlight, conv, items, virtualizer]);

  const nearTop = () => {
    const element = scrollRef.current;
    return element !== null && element.scrollTop < LOAD_OLDER_WITHIN_PX;
  };

  /** The row at the top of the view when older messages were asked for, and how far into it the view was. */
  const keptTop = useRef<{ key: string; delta: number; oldestId: number | undefined } | null>(null);
  const fetchOlder = () => {
    const element = scrollRef.current;
    const row = element && virtualizer.getVirtualItems().find((item) => item.end > element.scrollTop && items[item.index]?.kind !== 'day');
    keptTop.current = element && row ? { key: String(row.key), delta: element.scrollTop - row.start, oldestId: messages[0]?.id } : null;
    void loadOlder(app(), conv);
  };
  // The virtualizer keeps the top row in place when rows come in above it, but at the very top that
  // row is the day separator, which stays first: the view would stay at the top. Put the kept row back.
  useLayoutEffect(() => {
    const kept = keptTop.current;
    if (kept === null || messages[0]?.id === kept.oldestId) return;
    keptTop.current = null;
    const index = items.findIndex((item) => item.key === kept.key);
    const start = virtualizer.measurementsCache[index]?.start;
    const element = scrollRef.current;
    if (start !== undefined && element && Math.abs(element.scrollTop - (start + kept.delta)) > 1) {
      virtualizer.scrollToOffset(start + kept.delta);
    }
  }, [items, messages, virtualizer]);

  // A first page shorter than the view (or one that leaves the view near the top) gets no scroll that would fetch the next.
  useEffect(() => {
    const element = scrollRef.current;
    if (!placed.current || !element || element.clientHeight === 0) return;
    const fits = element.scrollHeight <= element.clientHeight && items.length < FILL_VIEW_LIMIT;
    if ((fits || nearTop()) && hasMore && !loadingOlder) fetchOlder();
  }, [items.length, hasMore, loadingOlder, conv]);

  const highlightedId = highlight?.conv === conv ? highlight.id : null;

  return (
    <div className="message-list-frame">
      <div className="history-edge">
        {loadingOlder ? (
          <span className="muted">{t('conversation.loadingOlder')}</span>
        ) : hasMore ? (
          <button type="button" className="link-button" onClick={fetchOlder}>
            {t('conversation.loadOlder')}
          </button>
        ) : (
          loaded && items.length > 0 && <span className="muted">{t('conversation.beginning')}</span>
        )}
      </div>
      <div
        ref={scrollRef}
        role="log"
        aria-label={t('conversation.messages')}
        className="message-list"
        tabIndex={0}
        onScroll={() => {
          const element = scrollRef.current!;
          const end = element.scrollHeight - element.scrollTop - element.clientHeight < AT_END_PX;
          // Only the reader moves the view up (rows measured smaller shrink it from below, at the end).
          if (end) following.current = true;
          else if (element.scrollTop < lastScrollTop.current) following.current = false;
          lastScrollTop.current = element.scrollTop;
          setAtEnd(end);
          if (placed.current && nearTop()) fetchOlder();
        }}
      >
        {loaded && items.length === 0 && <p className="empty">{emptyText ?? t('conversation.empty')}</p>}
        <TakeToolbarTurn value={setTurnTaken}>
          <div className="message-list-content" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((row) => {
              const item = items[row.index]!;
              return (
                <div
                  key={row.key}
                  data-index={row.index}
                  ref={virtualizer.measureElement}
                  className="timeline-row"
                  style={{ transform: `translateY(${row.start}px)` }}
                >
                  <TimelineRow
                    item={item}
                    me={me}
                    status={item.kind === 'message' && sameName(item.message.from, me) ? ownStatus({ outbox, deliveredUpTo }, item.message) : null}
                    highlighted={item.kind === 'message' && item.message.id === highlightedId}
                    toolbarTurn={item.kind === 'message' && item.message.id === toolbarTurn}
                    people={people}
                  />
                </div>
              );
            })}
          </div>
        </TakeToolbarTurn>
      </div>
      {unseen.length > 0 && (
        <button
          type="button"
          className="jump-latest"
          aria-label={t('unread.jumpLabel', { count: unseen.length })}
          onClick={() => {
            // To the first of them: what comes into view is read, as when scrolling there.
            const first = items.findIndex((item) => item.kind === 'message' && item.message.id === unseen[0]!.id);
            virtualizer.scrollToIndex(first, { align: 'start' });
          }}
        >
          {t('unread.jump', { count: unseen.length })}
        </button>
      )}
      {hasNewer && (
        <button
          type="button"
          className="jump-latest"
          onClick={() => {
            toEnd.current = true;
            void showLatest(app(), conv);
          }}
        >
          {t('conversation.jumpLatest')}
        </button>
      )}
    </div>
  );
}
