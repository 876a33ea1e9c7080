import type { OutboxStatus } from '../../src-shared/api.js';
import type { ChatMessage, GroupInfo, Target, UserInfo } from '../../src-shared/protocol/objects.js';
import { type ConversationKey, ROOM, conversationKind, groupConversation, type ConversationKind } from '../../src-shared/protocol/conversation.js';
import { nameKey, sameName } from '../../src-shared/protocol/names.js';
import type { OutboxEntry } from './messages.js';
import type { ContactView } from './presence.js';
import type { AppState } from './types.js';

export interface ConversationEntry {
  conv: ConversationKey;
  kind: ConversationKind;
  name: string;
  unread: number;
  target: Target;
}

type ConversationSources = Pick<AppState, 'contacts' | 'dmPeers' | 'groups' | 'unread'>;

const byName = (a: { name: string }, b: { name: string }) => nameKey(a.name).localeCompare(nameKey(b.name));

/** The sidebar's conversations in order: the room, direct conversations, then groups. */
export function conversationList(sources: ConversationSources, roomName: string): ConversationEntry[] {
  const unread = (conv: ConversationKey) => sources.unread[conv] ?? 0;
  const peers = new Map<ConversationKey, string>(Object.entries(sources.dmPeers));
  for (const contact of Object.values(sources.contacts)) if (contact.conv !== null) peers.set(contact.conv, contact.name);
  const direct = [...peers]
    .map(([conv, peer]): ConversationEntry => ({
      conv,
      kind: 'dm',
      name: peer,
      unread: unread(conv),
      target: { kind: 'dm', user: peer },
    }))
    .sort(byName);
  const groups = Object.values(sources.groups)
    .map((group): ConversationEntry => ({
      conv: group.conv,
      kind: 'group',
      name: group.name,
      unread: unread(group.conv),
      target: { kind: 'group', groupId: group.id },
    }))
    .sort(byName);
  const room: ConversationEntry = { conv: ROOM, kind: 'room', name: roomName, unread: unread(ROOM), target: { kind: 'room' } };
  return [room, ...direct, ...groups];
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
