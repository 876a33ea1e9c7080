import { useTranslation } from 'react-i18next';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { useApp, useConversation } from '../app-context.js';
import { useDocumentTitle } from '../desktop/appearance.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { ConversationPane } from './ConversationPane.js';

/** A popped-out window: one conversation, kept in sync through the same API events. */
export function ChatWindow({ conv }: { conv: ConversationKey }) {
  const { t } = useTranslation();
  const entry = useConversation(conv);
  const inRoom = useApp((state) => state.session.me !== null && state.session.status !== 'offline');
  useDocumentTitle(`${entry?.name ?? t('conversation.unknown')} – LanChat`);

  return (
    <div className="app chat-window">
      <header className="app-header">
        <ConnectionStatus />
      </header>
      {inRoom ? <ConversationPane conv={conv} canPopOut={false} /> : <p className="empty">{t('conversation.notInRoom')}</p>}
    </div>
  );
}
