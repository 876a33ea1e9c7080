import { useCallback, useMemo } from 'react';
import { type ConversationKey, ROOM } from '../../src-shared/protocol/conversation.js';
import { app, useApp, useConversationList } from '../app-context.js';
import { useDocumentTitle } from '../desktop/appearance.js';
import { useShortcuts } from '../desktop/shortcuts.js';
import { totalUnread } from '../store/selectors.js';
import { openConversation } from '../store/sync.js';
import { ConversationPane } from './ConversationPane.js';
import { HostPanel } from './HostPanel.js';
import { Sidebar } from './Sidebar.js';

export function MainWindow() {
  const list = useConversationList();
  const activeConv = useApp((state) => state.activeConv) ?? ROOM;
  const unread = useApp((state) => totalUnread(state.unread));
  const showHostPanel = useApp((state) => state.session.hosting !== null && state.hostPanelOpen);
  const order = useMemo(() => list.map((entry) => entry.conv), [list]);
  const open = useCallback((conv: ConversationKey) => void openConversation(app(), conv), []);

  useDocumentTitle(unread > 0 ? `(${unread}) LanChat` : 'LanChat');
  useShortcuts(order, activeConv, open);

  return (
    <div className={showHostPanel ? 'main-window with-host-panel' : 'main-window'}>
      <Sidebar conversations={list} activeConv={activeConv} />
      <ConversationPane key={activeConv} conv={activeConv} canPopOut />
      {showHostPanel && <HostPanel />}
    </div>
  );
}
