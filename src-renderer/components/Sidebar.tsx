import { useTranslation } from 'react-i18next';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { useApp } from '../app-context.js';
import type { ConversationEntry } from '../store/selectors.js';
import { ChatRequests } from './ChatRequests.js';
import { ConversationNav } from './ConversationNav.js';
import { GroupInvitations } from './GroupInvitations.js';
import { NewChatMenu } from './NewChat.js';
import { SearchPanel } from './SearchPanel.js';

/**
 * Renders again at each message, as the list's previews change; the parts that do not show the list are
 * memoized, so a flood of messages does not render the menus and requests again each time.
 */
export function Sidebar({ conversations, activeConv }: { conversations: ConversationEntry[]; activeConv: ConversationKey }) {
  const { t } = useTranslation();
  const open = useApp((state) => state.sidebarOpen);
  return (
    <div className="sidebar" data-open={open}>
      <div className="sidebar-top">
        <h2 className="sidebar-title">{t('layout.chats')}</h2>
        <NewChatMenu />
      </div>
      <SearchPanel conversations={conversations} />
      <ChatRequests />
      <GroupInvitations />
      <ConversationNav conversations={conversations} activeConv={activeConv} />
    </div>
  );
}
