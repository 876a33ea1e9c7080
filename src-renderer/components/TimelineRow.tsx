import { useTranslation } from 'react-i18next';
import type { AppError, OutboxStatus } from '../../src-shared/api.js';
import { errorText } from '../i18n/index.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { formatTime, nameDay } from '../lib/time.js';
import type { TimelineItem } from '../lib/timeline.js';
import type { MessagesData } from '../store/messages.js';
import { ownStatus } from '../store/selectors.js';

interface TimelineRowProps {
  item: TimelineItem;
  me: string | null;
  outbox: MessagesData['outbox'];
  deliveredUpTo: MessagesData['deliveredUpTo'];
  highlightedId: number | null;
}

export function TimelineRow({ item, me, outbox, deliveredUpTo, highlightedId }: TimelineRowProps) {
  switch (item.kind) {
    case 'day':
      return <DaySeparator ts={item.ts} />;
    case 'notice':
      return <PresenceNoticeRow user={item.notice.user} online={item.notice.online} ts={item.notice.ts} />;
    case 'pending':
      return (
        <MessageBubble
          from={me ?? ''}
          ts={item.entry.ts}
          text={item.entry.text}
          status={item.entry.status}
          error={item.entry.error}
          own
          highlighted={false}
        />
      );
    case 'message': {
      const { message } = item;
      const own = sameName(message.from, me);
      return (
        <MessageBubble
          from={message.from}
          ts={message.ts}
          text={message.text}
          status={own ? ownStatus({ outbox, deliveredUpTo }, message) : null}
          error={null}
          own={own}
          highlighted={message.id === highlightedId}
        />
      );
    }
  }
}

function DaySeparator({ ts }: { ts: number }) {
  const { t, i18n } = useTranslation();
  const day = nameDay(ts, Date.now(), i18n.language);
  const label = 'date' in day ? day.date : day.relative === 'today' ? t('message.today') : t('message.yesterday');
  return (
    <div className="day-separator">
      <span>{label}</span>
    </div>
  );
}

function PresenceNoticeRow({ user, online, ts }: { user: string; online: boolean; ts: number }) {
  const { t } = useTranslation();
  return (
    <p className="presence-notice">
      {online ? t('message.joined', { name: user }) : t('message.left', { name: user })}{' '}
      <time dateTime={new Date(ts).toISOString()}>{formatTime(ts)}</time>
    </p>
  );
}

const STATUS_ICON: Record<OutboxStatus, string> = { queued: '◷', sent: '✓', delivered: '✓✓', failed: '!' };

interface MessageBubbleProps {
  from: string;
  ts: number;
  text: string;
  /** Shown for your own messages only. */
  status: OutboxStatus | null;
  error: AppError | null;
  own: boolean;
  highlighted: boolean;
}

function MessageBubble({ from, ts, text, status, error, own, highlighted }: MessageBubbleProps) {
  const { t } = useTranslation();
  const classes = ['message', own ? 'own' : '', highlighted ? 'highlighted' : ''].filter(Boolean).join(' ');
  return (
    <article className={classes} aria-current={highlighted ? 'true' : undefined}>
      <header className="message-meta">
        <span className="message-sender">{from}</span>{' '}
        <time dateTime={new Date(ts).toISOString()}>{formatTime(ts)}</time>
      </header>
      {/* Plain text only: React escapes it, and white-space: pre-wrap keeps the author's lines. */}
      <p className="message-text">{text}</p>
      {status !== null && (
        <footer className="message-footer">
          <span
            className="message-status"
            data-status={status}
            role="img"
            aria-label={t('message.statusLabel', { status: t(`message.${status}`) })}
          >
            <span aria-hidden="true">{STATUS_ICON[status]}</span> {t(`message.${status}`)}
          </span>
          {error !== null && <span className="message-error">{errorText(t, error)}</span>}
        </footer>
      )}
    </article>
  );
}
