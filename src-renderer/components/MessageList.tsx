import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { type ConversationKey, ROOM } from '../../src-shared/protocol/conversation.js';
import { app, useApp } from '../app-context.js';
import { buildTimeline, type TimelineItem } from '../lib/timeline.js';
import { EMPTY_TIMELINE, type MessagesData, type PresenceNotice } from '../store/messages.js';
import { pendingFor } from '../store/selectors.js';
import { loadOlder, showLatest } from '../store/sync.js';
import { TimelineRow } from './TimelineRow.js';

/** Closer to the top than this, the next older page is fetched. */
const LOAD_OLDER_WITHIN_PX = 300;
/** No view holds more rows than this; past it a list that still fits is a layout fault, not a short page. */
const FILL_VIEW_LIMIT = 200;
const ESTIMATED_HEIGHT: Record<TimelineItem['kind'], number> = { day: 36, notice: 28, message: 64, pending: 64 };
const NO_NOTICES: PresenceNotice[] = [];

/**
 * The conversation's messages, virtualized: only the rows in view are in the
 * DOM however long the history. Opens at the newest message, follows new ones
 * while scrolled to the bottom, and keeps its place when older pages arrive.
 */
export function MessageList({ conv }: { conv: ConversationKey }) {
  const { t } = useTranslation();
  const timeline = useApp((state) => state.timelines[conv]) ?? EMPTY_TIMELINE;
  const outbox = useApp((state) => state.outbox);
  const contacts = useApp((state) => state.contacts);
  const dmPeers = useApp((state) => state.dmPeers);
  const deliveredUpTo = useApp((state) => state.deliveredUpTo);
  const me = useApp((state) => state.session.me);
  const notices = useApp((state) => (conv === ROOM ? state.roomNotices : NO_NOTICES));
  const highlight = useApp((state) => state.highlight);

  const pending = useMemo(() => pendingFor({ outbox, contacts, dmPeers }, conv), [outbox, contacts, dmPeers, conv]);
  const { messages, hasMore, hasNewer, loaded, loadingOlder } = timeline;
  const items = useMemo(
    () => buildTimeline(messages, pending, notices, { hasMore, hasNewer }),
    [messages, pending, notices, hasMore, hasNewer],
  );

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => ESTIMATED_HEIGHT[items[index]!.kind],
    getItemKey: (index) => items[index]!.key,
    overscan: 10,
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: 48,
  });

  /** Whether the view was put at the newest message once the first page came. */
  const placed = useRef(false);
  /** Set when returning from an older stretch: the next rows replace it, so show their end. */
  const toEnd = useRef(false);
  useLayoutEffect(() => {
    if ((placed.current && !toEnd.current) || !loaded || items.length === 0) return;
    placed.current = true;
    toEnd.current = false;
    virtualizer.scrollToIndex(items.length - 1, { align: 'end' });
  }, [loaded, items, virtualizer]);

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

  // A first page shorter than the view cannot be scrolled, so nothing else would fetch the next.
  useEffect(() => {
    const element = scrollRef.current;
    if (!placed.current || !element || element.clientHeight === 0) return;
    const fits = element.scrollHeight <= element.clientHeight && items.length < FILL_VIEW_LIMIT;
    if (fits && hasMore && !loadingOlder) {
      void loadOlder(app(), conv);
    }
  }, [items.length, hasMore, loadingOlder, conv]);

  const highlightedId = highlight?.conv === conv ? highlight.id : null;

  return (
    <div className="message-list-frame">
      <div className="history-edge">
        {loadingOlder ? (
          <span className="muted">{t('conversation.loadingOlder')}</span>
        ) : hasMore ? (
          <button type="button" className="link-button" onClick={() => void loadOlder(app(), conv)}>
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
          if (placed.current && nearTop()) void loadOlder(app(), conv);
        }}
      >
        {loaded && items.length === 0 && <p className="empty">{t('conversation.empty')}</p>}
        <div className="message-list-content" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((row) => (
            <div
              key={row.key}
              data-index={row.index}
              ref={virtualizer.measureElement}
              className="timeline-row"
              style={{ transform: `translateY(${row.start}px)` }}
            >
              <TimelineRow item={items[row.index]!} me={me} outbox={outbox} deliveredUpTo={deliveredUpTo} highlightedId={highlightedId} />
            </div>
          ))}
        </div>
      </div>
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
