/** The window's one store and API, and the hooks components read them with. */
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useStore } from 'zustand';
import type { ConversationKey } from '../src-shared/protocol/conversation.js';
import { getApi } from './api.js';
import { createAppStore, type AppState } from './store/index.js';
import { conversationList, conversationPeople, type ConversationEntry } from './store/selectors.js';
import type { AppContext } from './store/sync.js';

export const appStore = createAppStore();

let context: AppContext | null = null;

export function app(): AppContext {
  context ??= { store: appStore, api: getApi() };
  return context;
}

export function useApp<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector);
}

export function useConversationList(): ConversationEntry[] {
  const { t } = useTranslation();
  const contacts = useApp((state) => state.contacts);
  const dmPeers = useApp((state) => state.dmPeers);
  const groups = useApp((state) => state.groups);
  const unread = useApp((state) => state.unread);
  const mentionUnread = useApp((state) => state.mentionUnread);
  const latest = useApp((state) => state.latest);
  const users = useApp((state) => state.users);
  const roomName = useApp((state) => state.session.roomName) ?? t('nav.room');
  return useMemo(
    () => conversationList({ contacts, dmPeers, groups, unread, mentionUnread, latest, users }, roomName),
    [contacts, dmPeers, groups, unread, mentionUnread, latest, users, roomName],
  );
}

export function useConversation(conv: ConversationKey): ConversationEntry | undefined {
  const list = useConversationList();
  return list.find((entry) => entry.conv === conv);
}

/** Who reads the conversation, you included (whom a mention may name). */
export function useConversationPeople(conv: ConversationKey): string[] {
  const users = useApp((state) => state.users);
  const groups = useApp((state) => state.groups);
  const contacts = useApp((state) => state.contacts);
  const dmPeers = useApp((state) => state.dmPeers);
  const session = useApp((state) => state.session);
  return useMemo(() => conversationPeople({ users, groups, contacts, dmPeers, session }, conv), [users, groups, contacts, dmPeers, session, conv]);
}
