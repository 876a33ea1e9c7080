import { useCallback, useMemo } from 'react';
import { type ConversationKey, ROOM } from '../../src-shared/protocol/conversation.js';
import { app, useApp, useConversationList } from '../app-context.js';
import { useDocumentTitle } from '../desktop/appearance.js';
import { useShortcuts } from '../desktop/shortcuts.js';
import { totalUnread } from '../store/selectors.js';
import { openConversation } from '../store/sync.js';
import { CallAudio } from './CallMedia.js';
import { IncomingCall } from './CallPrompts.js';
import { ConversationPane } from './ConversationPane.js';
import { RoomSettings } from './RoomSettings.js';
import { Sidebar } from './Sidebar.js';

export function MainWindow() {
  const list = useConversationList();
  const activeConv = useApp((state) => state.activeConv) ?? ROOM;
  const unread = useApp((state) => totalUnread(state.unread));
  const showRoomSettings = useApp((state) => state.session.hosting !== null && state.drawer === 'roomSettings');
  const sidebarOpen = useApp((state) => state.sidebarOpen);
  const order = useMemo(() => list.map((entry) => entry.conv), [list]);
  const open = useCallback((conv: ConversationKey) => {
    app().store.getState().focusComposer(conv);
    void openConversation(app(), conv);
  }, []);

  useDocumentTitle(unread > 0 ? `(${unread}) LanChat` : 'LanChat');
  useShortcuts(order, activeConv, open);

  return (
    <div className="main-window">
      <Sidebar conversations={list} activeConv={activeConv} />
      {sidebarOpen && <div className="scrim" aria-hidden="true" onClick={() => app().store.getState().setSidebarOpen(false)} />}
      <ConversationPane key={activeConv} conv={activeConv} canPopOut />
      {showRoomSettings && <RoomSettings onClose={() => app().store.getState().setDrawer(null)} />}
      <IncomingCall />
      <CallAudio />
    </div>
  );
}
