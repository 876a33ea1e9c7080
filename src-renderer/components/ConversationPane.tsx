import { useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { app, useApp, useConversation, useConversationPeople } from '../app-context.js';
import { isBrowserShell } from '../api.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { callIn } from '../store/calls.js';
import { contactForConversation, groupOfConversation, otherUsers } from '../store/selectors.js';
import { Avatar } from './Avatar.js';
import { CallBar, CallButtons, callErrorText } from './CallPrompts.js';
import { CallView } from './CallView.js';
import { ChatNote } from './ChatNote.js';
import { Composer } from './Composer.js';
import { ConversationDetails } from './ConversationDetails.js';
import { DropZone } from './DropZone.js';
import { ConversationSecurity } from './E2ee.js';
import { ErrorAlert } from './ErrorAlert.js';
import { Icon } from './Icons.js';
import { ImageViewer } from './ImageViewer.js';
import { InviteNote } from './InviteNote.js';
import { MessageList } from './MessageList.js';
import { MuteMenu } from './MuteMenu.js';
import { Presence } from './Presence.js';
import { TypingIndicator } from './TypingIndicator.js';

/** One conversation: its header, messages and composer, and its details drawer when opened. */
export function ConversationPane({ conv, canPopOut }: { conv: ConversationKey; canPopOut: boolean }) {
  const { t } = useTranslation();
  const headingId = useId();
  const entry = useConversation(conv);
  const groups = useApp((state) => state.groups);
  const contacts = useApp((state) => state.contacts);
  const users = useApp((state) => state.users);
  const me = useApp((state) => state.session.me);
  const detailsOpen = useApp((state) => state.drawer === 'details');
  const limits = useApp((state) => state.session.limits);
  const callVideo = useApp((state) => callIn(state.calls, conv)?.video ?? false);
  const setDrawer = useApp((state) => state.setDrawer);
  const setSidebarOpen = useApp((state) => state.setSidebarOpen);
  const group = useMemo(() => groupOfConversation(groups, conv), [groups, conv]);
  const contact = useMemo(() => contactForConversation(contacts, conv), [contacts, conv]);
  const others = useMemo(() => otherUsers(users, me), [users, me]);
  const people = useConversationPeople(conv);
  const [actionError, setActionError] = useState<AppError | null>(null);
  const name = entry?.name ?? t('conversation.unknown');
  const peer = entry?.kind === 'dm' ? users[nameKey(entry.name)] : undefined;

  const popOut = async () => {
    if (!isBrowserShell()) {
      const result = await app().api.openChatWindow(conv);
      if (result.ok) return;
      if (result.error.code !== 'UNSUPPORTED') {
        setActionError(result.error);
        return;
      }
    }
    window.open(`?conv=${encodeURIComponent(conv)}`, '_blank');
  };

  const detailsLabel = entry?.kind === 'group' ? t('groups.details') : entry?.kind === 'dm' ? t('layout.chatDetails') : t('layout.roomDetails');
  const subtitle =
    entry?.kind === 'group'
      ? t('layout.members', { count: group?.members.length ?? 0 })
      : entry?.kind === 'dm'
        ? <Presence user={peer} />
        : t('layout.people', { count: others.length + 1, online: others.filter((user) => user.online).length + 1 });

  return (
    <main className="conversation" aria-labelledby={headingId}>
      <header className="conversation-header">
        {canPopOut && (
          <button type="button" className="icon-button sidebar-toggle" aria-label={t('layout.showChats')} onClick={() => setSidebarOpen(true)}>
            <Icon name="menu" />
          </button>
        )}
        <Avatar name={name} size={34} online={entry?.kind === 'dm' ? (peer?.online ?? false) : undefined} />
        <div className="conversation-title">
          <h1 id={headingId}>{name}</h1>
          <p className="conversation-subtitle">
            <span className="subtitle-text">{subtitle}</span> <ConversationSecurity conv={conv} />
          </p>
        </div>
        <div className="conversation-actions">
          {canPopOut && (
            <button type="button" className="icon-button" aria-label={t('conversation.openWindow')} title={t('conversation.openWindow')} onClick={() => void popOut()}>
              <Icon name="popOut" />
            </button>
          )}
          {canPopOut && entry !== undefined && entry.kind !== 'room' && (
            <CallButtons conv={conv} disabled={contact !== undefined && contact.state !== 'accepted'} onError={setActionError} />
          )}
          <MuteMenu conv={conv} />
          <button
            type="button"
            className="icon-button"
            aria-label={detailsLabel}
            title={detailsLabel}
            aria-expanded={detailsOpen}
            onClick={() => setDrawer(detailsOpen ? null : 'details')}
          >
            <Icon name="info" />
          </button>
        </div>
      </header>
      <ErrorAlert error={actionError} text={actionError === null ? undefined : callErrorText(t, actionError, limits, callVideo)} />
      {canPopOut && <CallView />}
      {canPopOut && <CallBar conv={conv} />}
      {contact && <ChatNote contact={contact} />}
      {entry?.kind === 'room' && others.length === 0 && <InviteNote />}
      <div className="conversation-body">
        <div className="conversation-thread">
          <MessageList conv={conv} emptyText={entry?.kind === 'dm' ? t('layout.dmEmpty', { name }) : undefined} />
          <TypingIndicator conv={conv} />
          <Composer conv={conv} target={entry?.target ?? null} blocked={contact?.state === 'declined-by-them'} people={people} />
        </div>
        {detailsOpen && entry !== undefined && (
          <ConversationDetails entry={entry} group={group} contact={contact} label={detailsLabel} onClose={() => setDrawer(null)} onError={setActionError} />
        )}
      </div>
      <ImageViewer />
      <DropZone conv={conv} name={name} enabled={entry?.target !== undefined && contact?.state !== 'declined-by-them'} />
    </main>
  );
}
