import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import type { ConversationEntry } from '../store/selectors.js';
import { ChatRequests } from './ChatRequests.js';
import { ContactsList } from './ContactsList.js';
import { ConversationNav } from './ConversationNav.js';
import { NewDirectMessage } from './NewDirectMessage.js';
import { NewGroup } from './NewGroup.js';
import { SearchPanel } from './SearchPanel.js';

export function Sidebar({ conversations, activeConv }: { conversations: ConversationEntry[]; activeConv: ConversationKey }) {
  return (
    <div className="sidebar">
      <SearchPanel conversations={conversations} />
      <ConversationNav conversations={conversations} activeConv={activeConv} />
      <ChatRequests />
      <NewDirectMessage />
      <NewGroup />
      <ContactsList />
    </div>
  );
}
