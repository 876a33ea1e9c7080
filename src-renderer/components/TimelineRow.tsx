import type { TFunction } from 'i18next';
import { type ReactNode, memo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useApp } from '../app-context.js';
import type { AppError, OutboxStatus } from '../../src-shared/api.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { errorText } from '../i18n/index.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { formatDate, formatTime, nameDay } from '../lib/time.js';
import { type TimelineItem, presenceSummary, sameItem } from '../lib/timeline.js';
import type { Notice } from '../store/messages.js';
import { callEventText } from '../lib/call-events.js';
import { groupEventText } from '../lib/group-events.js';
import { Avatar } from './Avatar.js';
import { PlainMark } from './E2ee.js';
import { isWaiting, PendingActions } from './FailedMessage.js';
import { Icon, type IconName } from './Icons.js';
import { MessageFiles } from './MessageFiles.js';
import { MessageActions, ReadMark, Reactions, ReplyQuote } from './MessageParts.js';
import { MessageText } from './MessageText.js';

interface TimelineRowProps {
  item: TimelineItem;
  me: string | null;
  /** A stored message of yours: whether it was delivered. */
  status: OutboxStatus | null;
  highlighted: boolean;
  /** Whether this message's toolbar is the list's tab stop. */
  toolbarTurn: boolean;
  /** Who a mention in this conversation may name. */
  people: readonly string[];
}

/**
 * One row of the timeline. Memoized: a flood of messages renders each new row, not every row in view
 * again for each message that comes (700 of them kept a window's renderer busy for 13 s). The item is
 * made anew at each build, so it is compared by what it shows; every other prop by identity.
 */
export const TimelineRow = memo(TimelineRowContent, (before, after) =>
  (Object.keys(before) as (keyof TimelineRowProps)[]).every((key) => (key === 'item' ? sameItem(before.item, after.item) : before[key] === after[key])),
);

function TimelineRowContent({ item, me, status, highlighted, toolbarTurn, people }: TimelineRowProps) {
  switch (item.kind) {
    case 'day':
      return <DaySeparator ts={item.ts} />;
    case 'unread':
      return <UnreadDivider />;
    case 'notice':
      return <NoticeRow notice={item.notice} />;
    case 'presence':
      return <PresenceRun notices={item.notices} />;
    case 'pending':
      return (
        <MessageRow
          from={me ?? ''}
          ts={item.entry.ts}
          text={item.entry.text}
          status={item.entry.status}
          error={isWaiting(item.entry) ? null : item.entry.error}
          own
          continued={item.continued}
          highlighted={false}
          toolbarTurn={false}
          people={people}
          me={me}
        >
          <PendingActions entry={item.entry} />
        </MessageRow>
      );
    case 'message': {
      const { message } = item;
      if (message.groupEvent) return <GroupEventRow message={message} />;
      if (message.callEvent) return <CallEventRow message={message} me={me} />;
      const own = sameName(message.from, me);
      return (
        <MessageRow
          message={message}
          from={message.from}
          ts={message.ts}
          text={message.text}
          status={status}
          error={null}
          own={own}
          continued={item.continued}
          highlighted={highlighted}
          toolbarTurn={toolbarTurn}
          people={people}
          me={me}
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

function UnreadDivider() {
  const { t } = useTranslation();
  return (
    <div className="unread-divider" role="separator" aria-label={t('unread.divider')}>
      <span>{t('unread.divider')}</span>
    </div>
  );
}

function NoticeRow({ notice }: { notice: Notice }) {
  const { t } = useTranslation();
  const me = useApp((state) => state.session.me);
  const text = (() => {
    switch (notice.kind) {
      case 'joined':
        return t('message.joined', { name: notice.user });
      case 'left':
        return t('message.left', { name: notice.user });
      case 'chatEnded':
        return t('notice.chatEnded', { name: notice.user });
      case 'groupDeleted':
        return t('groupGone.deleted', { group: notice.user });
      case 'groupLeft':
        return t('groupGone.left', { group: notice.user });
      case 'e2eeUnreachable':
        return t('notice.e2eeUnreachable', { name: notice.user });
      case 'devicesChanged':
        // Your own new app, added by this one (or one the host added in your name).
        return me !== null && sameName(notice.user, me) ? t('notice.ownDevicesChanged') : t('notice.devicesChanged', { name: notice.user });
    }
  })();
  return (
    <p className="notice">
      {text} <FullTime ts={notice.ts} />
    </p>
  );
}

/** "ann, bob and 12 others joined · cem left", and each join and leave on demand. */
function PresenceRun({ notices }: { notices: Notice[] }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const summary = presenceSummary(notices)
    .map(({ change, users }) => t(`presenceRun.${change}`, { names: nameList(t, users) }))
    .join(' · ');
  return (
    <div className="presence-run">
      <p className="notice">
        {summary} <FullTime ts={notices.at(-1)!.ts} />{' '}
        <button type="button" className="link-button" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? t('presenceRun.hide') : t('presenceRun.show', { count: notices.length })}
        </button>
      </p>
      {open && (
        <ul aria-label={t('presenceRun.list')}>
          {notices.map((notice, index) => (
            <li key={index}>
              <NoticeRow notice={notice} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** "ann", "ann and bob", "ann, bob and cem", "ann, bob and 3 others". */
function nameList(t: TFunction, users: string[]): string {
  const [a, b, c] = users;
  if (users.length === 1) return a!;
  if (users.length === 2) return t('presenceRun.two', { a, b });
  if (users.length === 3) return t('presenceRun.three', { a, b, c });
  return t('presenceRun.more', { a, b, count: users.length - 2 });
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

/** A call's line: missed, declined or ended, with an icon; a missed call to you stands out. */
function CallEventRow({ message, me }: { message: ChatMessage; me: string | null }) {
  const { t } = useTranslation();
  const missed = message.callEvent?.kind === 'missed' && !sameName(message.from, me);
  return (
    <p className="notice call-event" data-missed={missed}>
      <Icon name={missed ? 'phoneMissed' : message.callEvent?.video ? 'video' : 'phone'} size={15} />
      <span>{callEventText(t, message, me)}</span>
      <FullTime ts={message.ts} />
    </p>
  );
}

/** "HH:MM", with the full date and time on hover. */
function FullTime({ ts, className }: { ts: number; className?: string }) {
  const { i18n } = useTranslation();
  const date = new Date(ts);
  return (
    <time className={className} dateTime={date.toISOString()} title={formatDate(ts, i18n.language, { dateStyle: 'full', timeStyle: 'short' })}>
      {formatTime(ts)}
    </time>
  );
}

/** "edited", with when on hover. */
function EditedMark({ ts }: { ts: number }) {
  const { t, i18n } = useTranslation();
  const when = formatDate(ts, i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <span className="edited-mark" title={t('edit.editedAt', { time: when })}>
      {' '}
      {t('edit.edited')}
    </span>
  );
}

const STATUS_ICON: Record<OutboxStatus, IconName> = { queued: 'clock', sent: 'check', delivered: 'checks', failed: 'alert' };

interface MessageRowProps {
  /** A stored message (a pending one has none): its quote, reactions, read mark and actions. */
  message?: ChatMessage;
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
  toolbarTurn: boolean;
  people: readonly string[];
  me: string | null;
  /** Under the message: what can be done with it (a failed one's Retry and Remove). */
  children?: ReactNode;
}

function MessageRow({ message, from, ts, text, status, error, own, continued, highlighted, toolbarTurn, people, me, children }: MessageRowProps) {
  const { t } = useTranslation();
  const [actionError, setActionError] = useState<AppError | null>(null);
  const mentioned = message?.mentions?.some((name) => sameName(name, me)) ?? false;
  const classes = ['message', own ? 'own' : '', continued ? 'continued' : '', highlighted ? 'highlighted' : '', mentioned ? 'mentions-me' : '']
    .filter(Boolean)
    .join(' ');
  const shownError = error ?? actionError;
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
        {message && <ReplyQuote message={message} />}
        <div className="message-line">
          {message?.deleted ? (
            <p className="message-text deleted">{t('delete.deleted')}</p>
          ) : (
            // Text nodes and elements only: React escapes the text, and white-space: pre-wrap keeps the author's lines.
            <p className="message-text">
              <MessageText text={text} people={people} me={me} />
              {message?.editedAt !== undefined && <EditedMark ts={message.editedAt} />}
              {message && <PlainMark message={message} />}
            </p>
          )}
          {message && own && <ReadMark message={message} />}
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
        {message && <MessageFiles message={message} />}
        {message && <Reactions message={message} me={me} />}
        {shownError !== null && (
          // A queued message with an error is one the host failed: it goes again by itself.
          <p className="message-error" title={status === 'queued' ? shownError.message : undefined}>
            {status === 'queued' ? t('message.retrying') : errorText(t, shownError)}
          </p>
        )}
        {children}
      </div>
      {message && <MessageActions message={message} own={own} turn={toolbarTurn} onError={setActionError} />}
    </article>
  );
}
