/**
 * What you can do with one of your messages the host refused (muted, too long, too fast for
 * good…): send it again, or remove it from the conversation. It stays until you choose. And with
 * one that waits, for the other user's app to receive encrypted messages or for the connection to
 * come back: give up on it, unless it went out before the connection dropped.
 */
import type { TFunction } from 'i18next';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type AppError, AppErrorCode } from '../../src-shared/api.js';
import { app, useApp } from '../app-context.js';
import type { OutboxEntry } from '../store/messages.js';
import { ErrorAlert } from './ErrorAlert.js';

export function FailedMessageActions({ entry }: { entry: OutboxEntry }) {
  const { t } = useTranslation();
  const [error, setError] = useState<AppError | null>(null);

  const retry = async () => {
    // It goes as a new message with a new client id; the refused entry makes way for it.
    const result = await app().api.send(entry.target, entry.text);
    if (result.ok) app().store.getState().removeOutbox(entry.clientMsgId);
    else setError(result.error);
  };

  return (
    <div className="failed-actions" role="group" aria-label={t('failed.label')}>
      <button type="button" onClick={() => void retry()}>
        {t('failed.retry')}
      </button>
      <button type="button" onClick={() => app().store.getState().removeOutbox(entry.clientMsgId)}>
        {t('failed.remove')}
      </button>
      <ErrorAlert error={error} />
    </div>
  );
}

/** Whether the entry is one of your encrypted messages waiting for an app, the other user's or a group member's (it goes by itself once it can). */
export const isWaiting = (entry: OutboxEntry): boolean => entry.status === 'queued' && entry.error?.code === AppErrorCode.E2EE_WAITING;

/** The actions under one of your messages not stored yet: refused, or waiting for their app or for the connection. */
export function PendingActions({ entry }: { entry: OutboxEntry }) {
  const connection = useApp((state) => state.session.status);
  if (entry.status === 'failed') return <FailedMessageActions entry={entry} />;
  if (isWaiting(entry)) {
    const members = entry.error?.waitingFor;
    const { target } = entry;
    // Without whose app it waits for, it waits to be added: a group joined since, or a DM on a user's new app.
    const why = target.kind === 'dm' ? (members ? { user: target.user } : { addedBy: target.user }) : members ? { members } : 'group';
    return <WaitingMessage entry={entry} why={why} />;
  }
  // Online, a queued message is on its way (or going again after the host failed it): nothing to choose.
  if (entry.status !== 'queued' || connection === 'online') return null;
  // One that went out before the connection dropped may be stored already: it cannot be taken back.
  return entry.tried ? <MaybeSentMessage /> : <WaitingMessage entry={entry} why="connection" />;
}

function MaybeSentMessage() {
  const { t } = useTranslation();
  return (
    <div className="failed-actions" role="group" aria-label={t('waiting.label')}>
      <p className="message-waiting">{t('waiting.maybeSent')}</p>
    </div>
  );
}

/**
 * Why a message waits: for a user's app, for an app of a group's other members to begin its encryption, for a
 * member's app to add this device to a group's encryption (or the other user's, to a DM's), or for the connection.
 */
type WaitingWhy = { user: string } | { members: string[] } | { addedBy: string } | 'group' | 'connection';

function WaitingMessage({ entry, why }: { entry: OutboxEntry; why: WaitingWhy }) {
  const { t } = useTranslation();
  const [error, setError] = useState<AppError | null>(null);

  const cancel = async () => {
    const result = await app().api.cancelUnsent(entry.clientMsgId);
    if (result.ok) app().store.getState().removeOutbox(entry.clientMsgId);
    else setError(result.error);
  };

  return (
    <div className="failed-actions" role="group" aria-label={t('waiting.label')}>
      <p className="message-waiting">{waitingWhy(t, why)}</p>
      <button type="button" onClick={() => void cancel()}>
        {t('waiting.cancel')}
      </button>
      <ErrorAlert error={error} />
    </div>
  );
}

function waitingWhy(t: TFunction, why: WaitingWhy): string {
  if (why === 'group') return t('waiting.group');
  if (why === 'connection') return t('waiting.connection');
  if ('user' in why) return t('waiting.why', { name: why.user });
  if ('addedBy' in why) return t('waiting.addedBy', { name: why.addedBy });
  return t('waiting.members', { names: why.members.join(', '), count: why.members.length });
}
