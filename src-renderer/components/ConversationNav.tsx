import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { isMuted } from '../../src-shared/notify.js';
import { app, useApp } from '../app-context.js';
import { conversationPreview } from '../lib/preview.js';
import { formatMoment } from '../lib/time.js';
import type { ConversationEntry } from '../store/selectors.js';
import { openConversation } from '../store/sync.js';
import { Avatar } from './Avatar.js';
import { Icon } from './Icons.js';

/** The conversation list: the room first, then direct chats and groups by recent activity. */
export function ConversationNav({ conversations, activeConv }: { conversations: ConversationEntry[]; activeConv: ConversationKey }) {
  const { t } = useTranslation();
  return (
    <nav aria-label={t('nav.label')} className="conversation-nav">
      <ul>
        {conversations.map((entry) => (
          <li key={entry.conv}>
            <ConversationLink entry={entry} active={entry.conv === activeConv} />
          </li>
        ))}
      </ul>
      {conversations.length === 1 && <p className="muted nav-hint">{t('layout.noChats')}</p>}
    </nav>
  );
}

function ConversationLink({ entry, active }: { entry: ConversationEntry; active: boolean }) {
  const { t, i18n } = useTranslation();
  const me = useApp((state) => state.session.me);
  const muted = useApp((state) => isMuted(state.settings?.mutes ?? {}, entry.conv, Date.now()));
  const previewId = useId();
  const { latest } = entry;
  const preview = conversationPreview(t, entry, me);
  return (
    <button
      type="button"
      className="conversation-link"
      data-kind={entry.kind}
      aria-current={active ? 'page' : undefined}
      aria-label={[
        entry.unread > 0 ? t('nav.unread', { name: entry.name, count: entry.unread }) : entry.name,
        ...(entry.mentions > 0 ? [t('mention.badge', { count: entry.mentions })] : []),
        ...(muted ? [t('mute.mutedAlways')] : []),
      ].join(', ')}
      aria-describedby={preview === '' ? undefined : previewId}
      onClick={() => {
        app().store.getState().setSidebarOpen(false);
        app().store.getState().focusComposer(entry.conv);
        void openConversation(app(), entry.conv);
      }}
    >
      <Avatar name={entry.name} online={entry.kind === 'dm' ? entry.online : undefined} />
      <span className="conversation-summary">
        <span className="conversation-top">
          <span className="conversation-name">{entry.name}</span>
          {latest !== undefined && (
            <time className="conversation-time" dateTime={new Date(latest.ts).toISOString()}>
              {formatMoment(latest.ts, Date.now(), i18n.language)}
            </time>
          )}
        </span>
        <span className="conversation-bottom">
          <span id={previewId} className="conversation-preview">
            {preview}
          </span>
          {muted && (
            <span className="muted-mark" aria-hidden="true">
              <Icon name="bellOff" size={14} />
            </span>
          )}
          {entry.mentions > 0 && (
            <span className="badge mention-badge" aria-hidden="true" title={t('mention.badge', { count: entry.mentions })}>
              @{entry.mentions}
            </span>
          )}
          {entry.unread > 0 && (
            <span className={muted ? 'badge quiet' : 'badge'} aria-hidden="true">
              {entry.unread}
            </span>
          )}
        </span>
      </span>
    </button>
  );
}
