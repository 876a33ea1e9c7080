import { useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AppError } from '../../src-shared/api.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { app, useApp, useConversation } from '../app-context.js';
import { isBrowserShell } from '../api.js';
import { contactForConversation, groupOfConversation } from '../store/selectors.js';
import { endDirectChat } from '../store/sync.js';
import { ChatNote } from './ChatNote.js';
import { Composer } from './Composer.js';
import { ErrorAlert } from './ErrorAlert.js';
import { GroupPanel } from './GroupPanel.js';
import { MessageList } from './MessageList.js';

/** One conversation: its heading, messages and composer, and the members panel for a group. */
export function ConversationPane({ conv, canPopOut }: { conv: ConversationKey; canPopOut: boolean }) {
  const { t } = useTranslation();
  const headingId = useId();
  const entry = useConversation(conv);
  const groups = useApp((state) => state.groups);
  const contacts = useApp((state) => state.contacts);
  const group = useMemo(() => groupOfConversation(groups, conv), [groups, conv]);
  const contact = useMemo(() => contactForConversation(contacts, conv), [contacts, conv]);
  const [actionError, setActionError] = useState<AppError | null>(null);
  const canEndChat = contact?.state === 'accepted' || contact?.state === 'outgoing';

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

  const endChat = async (name: string) => {
    const result = await endDirectChat(app(), name);
    setActionError(result.ok ? null : result.error);
  };

  return (
    <main className="conversation" aria-labelledby={headingId}>
      <header className="conversation-header">
        <h1 id={headingId}>{entry?.name ?? t('conversation.unknown')}</h1>
        {canPopOut && (
          <button type="button" onClick={() => void popOut()}>
            {t('conversation.openWindow')}
          </button>
        )}
        {contact && canEndChat && (
          <button type="button" aria-label={t('conversation.endChat', { name: contact.name })} onClick={() => void endChat(contact.name)}>
            {t('conversation.endChatShort')}
          </button>
        )}
      </header>
      <ErrorAlert error={actionError} />
      {contact && <ChatNote contact={contact} />}
      <div className="conversation-body">
        <div className="conversation-thread">
          <MessageList conv={conv} />
          <Composer target={entry?.target ?? null} blocked={contact?.state === 'declined-by-them'} />
        </div>
        {group && <GroupPanel group={group} />}
      </div>
    </main>
  );
}
