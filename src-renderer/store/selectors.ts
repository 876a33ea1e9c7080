import type { OutboxStatus } from '../../src-shared/api.js';
import type { ChatMessage, GroupInfo, Target, UserInfo } from '../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM, conversationKind, groupConversation, type ConversationKind } from '../../src-shared/protocol/conversation.js';
import { nameKey, sameName } from '../../src-shared/protocol/names.js';
import type { OutboxEntry } from './messages.js';
import type { ContactView } from './contacts.js';
import type { AppState } from './types.js';

export interface ConversationEntry {
  conv: ConversationKey;
  kind: ConversationKind;
  name: string;
  unread: number;
  /** Of the unread messages, those that mention you. */
  mentions: number;
  target: Target;
  /** Its newest known message, for the preview line. */
  latest: ChatMessage | undefined;
  /** Direct conversations: whether the other person is online. */
  online: boolean;
  /** Groups: how many members. */
  members: number | undefined;
}

type ConversationSources = Pick<AppState, 'contacts' | 'dmPeers' | 'groups' | 'unread' | 'mentionUnread' | 'latest' | 'users'>;

/** Names in the order people count: user2 before user10. */
const nameOrder = new Intl.Collator(undefined, { numeric: true });
const byName = (a: { name: string }, b: { name: string }) => nameOrder.compare(nameKey(a.name), nameKey(b.name));

/** Newest activity first (message ids grow in the order the host stored them); quiet ones after, by name. */
const byActivity = (a: ConversationEntry, b: ConversationEntry) =>
  (b.latest?.id ?? 0) - (a.latest?.id ?? 0) || byName(a, b);

/** The sidebar's conversations in order: the room, then direct conversations and groups by recent activity. */
export function conversationList(sources: ConversationSources, roomName: string): ConversationEntry[] {
  const about = (conv: ConversationKey) => ({
    unread: sources.unread[conv] ?? 0,
    mentions: sources.mentionUnread[conv] ?? 0,
    latest: sources.latest[conv],
  });
  const peers = new Map<ConversationKey, string>(Object.entries(sources.dmPeers));
  for (const contact of Object.values(sources.contacts)) if (contact.conv !== null) peers.set(contact.conv, contact.name);
  const direct = [...peers].map(
    ([conv, peer]): ConversationEntry => ({
      conv,
      kind: 'dm',
      name: peer,
      ...about(conv),
      target: { kind: 'dm', user: peer },
      online: sources.users[nameKey(peer)]?.online ?? false,
      members: undefined,
    }),
  );
  const groups = Object.values(sources.groups).map(
    (group): ConversationEntry => ({
      conv: group.conv,
      kind: 'group',
      name: group.name,
      ...about(group.conv),
      target: { kind: 'group', groupId: group.id },
      online: false,
      members: group.members.length,
    }),
  );
  const room: ConversationEntry = {
    conv: ROOM,
    kind: 'room',
    name: roomName,
    ...about(ROOM),
    target: { kind: 'room' },
    online: false,
    members: undefined,
  };
  return [room, ...[...direct, ...groups].sort(byActivity)];
}

export function totalUnread(unread: Record<ConversationKey, number>): number {
  return Object.values(unread).reduce((sum, count) => sum + count, 0);
}

/** The conversation a message to `target` lands in, when known. */
function conversationOfTarget(
  target: Target,
  contacts: Record<string, ContactView>,
  dmPeers: Record<ConversationKey, string>,
): ConversationKey | null {
  if (target.kind === 'room') return ROOM;
  if (target.kind === 'group') return groupConversation(target.groupId);
  const contactConv = contacts[nameKey(target.user)]?.conv;
  if (contactConv) return contactConv;
  return Object.entries(dmPeers).find(([, peer]) => sameName(peer, target.user))?.[0] ?? null;
}

/** Your messages to `conv` that the host has not stored: still queued, or refused. */
export function pendingFor(
  state: Pick<AppState, 'outbox' | 'contacts' | 'dmPeers'>,
  conv: ConversationKey,
): OutboxEntry[] {
  return Object.values(state.outbox)
    .filter((entry) => entry.status === 'queued' || entry.status === 'failed')
    .filter((entry) => conversationOfTarget(entry.target, state.contacts, state.dmPeers) === conv)
    .sort((a, b) => a.ts - b.ts);
}

/** How far one of your stored messages got. */
export function ownStatus(state: Pick<AppState, 'outbox' | 'deliveredUpTo'>, message: ChatMessage): OutboxStatus {
  if (state.outbox[message.clientMsgId]?.status === 'delivered') return 'delivered';
  if ((state.deliveredUpTo[message.conv] ?? 0) >= message.id) return 'delivered';
  return 'sent';
}

/** Everyone but you, online people first. */
export function otherUsers(users: Record<string, UserInfo>, me: string | null): UserInfo[] {
  return Object.values(users)
    .filter((user) => !sameName(user.name, me))
    .sort((a, b) => Number(b.online) - Number(a.online) || byName(a, b));
}

export function incomingRequests(contacts: Record<string, ContactView>): ContactView[] {
  return Object.values(contacts)
    .filter((contact) => contact.state === 'incoming')
    .sort((a, b) => a.since - b.since);
}

export function contactForConversation(
  contacts: Record<string, ContactView>,
  conv: ConversationKey,
): ContactView | undefined {
  return conversationKind(conv) === 'dm' ? Object.values(contacts).find((contact) => contact.conv === conv) : undefined;
}

export function groupOfConversation(groups: Record<number, GroupInfo>, conv: ConversationKey): GroupInfo | undefined {
  return Object.values(groups).find((group) => group.conv === conv);
}

/** Who reads the conversation, you included: everyone in the room, a group's members, a direct chat's two. */
export function conversationPeople(
  state: Pick<AppState, 'users' | 'groups' | 'contacts' | 'dmPeers' | 'session'>,
  conv: ConversationKey,
): string[] {
  const me = state.session.me === null ? [] : [state.session.me];
  switch (conversationKind(conv)) {
    case 'room':
      return [...new Map([...me, ...Object.values(state.users).map((user) => user.name)].map((name) => [nameKey(name), name])).values()];
    case 'group':
      return groupOfConversation(state.groups, conv)?.members ?? me;
    case 'dm': {
      const peer = contactForConversation(state.contacts, conv)?.name ?? state.dmPeers[conv];
      return peer === undefined ? me : [...me, peer];
    }
  }
}
