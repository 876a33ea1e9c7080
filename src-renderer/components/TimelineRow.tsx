import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError, OutboxStatus } from '../../src-shared/api.js';
import { errorText } from '../i18n/index.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { formatTime, nameDay } from '../lib/time.js';
import type { TimelineItem } from '../lib/timeline.js';
import type { MessagesData, Notice } from '../store/messages.js';
import { groupEventText } from '../lib/group-events.js';
import { ownStatus } from '../store/selectors.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { Avatar } from './Avatar.js';
import { FailedMessageActions } from './FailedMessage.js';
import { Icon, type IconName } from './Icons.js';

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
      return <NoticeRow notice={item.notice} />;
    case 'pending':
      return (
        <MessageRow
          from={me ?? ''}
          ts={item.entry.ts}
          text={item.entry.text}
          status={item.entry.status}
          error={item.entry.error}
          own
          continued={item.continued}
          highlighted={false}
        >
          {item.entry.status === 'failed' && <FailedMessageActions entry={item.entry} />}
        </MessageRow>
      );
    case 'message': {
      const { message } = item;
      if (message.groupEvent) return <GroupEventRow message={message} />;
      const own = sameName(message.from, me);
      return (
        <MessageRow
          from={message.from}
          ts={message.ts}
          text={message.text}
          status={own ? ownStatus({ outbox, deliveredUpTo }, message) : null}
          error={null}
          own={own}
          continued={item.continued}
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

function NoticeRow({ notice }: { notice: Notice }) {
  const { t } = useTranslation();
  const text = (() => {
    switch (notice.kind) {
      case 'joined':
        return t('message.joined', { name: notice.user });
      case 'left':
        return t('message.left', { name: notice.user });
      case 'chatEnded':
        return t('notice.chatEnded', { name: notice.user });
    }
  })();
  return (
    <p className="notice">
      {text} <FullTime ts={notice.ts} />
    </p>
  );
}

/** A membership line of a group: centred and muted like a notice, though the server stored it. */
function GroupEventRow({ message }: { message: ChatMessage }) {
  const { t } = useTranslation();
  return (
    <p className="notice group-event">
      {groupEventText(t, message)} <FullTime ts={message.ts} />
    </p>
  );
}

/** "HH:MM", with the full date and time on hover. */
function FullTime({ ts, className }: { ts: number; className?: string }) {
  const { i18n } = useTranslation();
  const date = new Date(ts);
  return (
    <time className={className} dateTime={date.toISOString()} title={date.toLocaleString(i18n.language, { dateStyle: 'full', timeStyle: 'short' })}>
      {formatTime(ts)}
    </time>
  );
}

const STATUS_ICON: Record<OutboxStatus, IconName> = { queued: 'clock', sent: 'check', delivered: 'checks', failed: 'alert' };

interface MessageRowProps {
  from: string;
  ts: number;
  text: string;
  /** Shown for your own messages only. */
  status: OutboxStatus | null;
  error: AppError | null;
  own: boolean;
  /** Under the header of the same sender's message just before: no avatar and name again. */
  continued: boolean;
  highlighted: boolean;
  /** Under the message: what can be done with it (a failed one's Retry and Remove). */
  children?: ReactNode;
}

function MessageRow({ from, ts, text, status, error, own, continued, highlighted, children }: MessageRowProps) {
  const { t } = useTranslation();
  const classes = ['message', own ? 'own' : '', continued ? 'continued' : '', highlighted ? 'highlighted' : ''].filter(Boolean).join(' ');
  return (
    <article className={classes} aria-current={highlighted ? 'true' : undefined}>
      <div className="message-gutter">{continued ? <FullTime ts={ts} className="hover-time" /> : <Avatar name={from} size={36} />}</div>
      <div className="message-body">
        {continued ? (
          // Screen readers still hear who wrote each message.
          <span className="visually-hidden">{from}</span>
        ) : (
          <header className="message-meta">
            <span className="message-sender">{from}</span> <FullTime ts={ts} />
          </header>
        )}
        <div className="message-line">
          {/* Plain text only: React escapes it, and white-space: pre-wrap keeps the author's lines. */}
          <p className="message-text">{text}</p>
          {status !== null && (
            <span
              className="message-status"
              data-status={status}
              role="img"
              aria-label={t('message.statusLabel', { status: t(`message.${status}`) })}
              title={t(`message.${status}`)}
            >
              <Icon name={STATUS_ICON[status]} size={15} />
            </span>
          )}
        </div>
        {error !== null && <p className="message-error">{errorText(t, error)}</p>}
        {children}
      </div>
    </article>
  );
}
