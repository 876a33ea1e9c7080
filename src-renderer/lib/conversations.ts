/**
 * Conversation keys as the protocol defines them ("room", "dm:<id>:<id>",
 * "group:<id>"). Kept here rather than imported from src-shared/protocol.ts,
 * whose schemas would pull zod into the renderer bundle.
 */
import type { ConversationKey } from '../../src-shared/protocol.js';

export const ROOM: ConversationKey = 'room';

export type ConversationKind = 'room' | 'dm' | 'group';

export function conversationKind(conv: ConversationKey): ConversationKind {
  if (conv.startsWith('dm:')) return 'dm';
  if (conv.startsWith('group:')) return 'group';
  return 'room';
}

export function groupConversation(groupId: number): ConversationKey {
  return `group:${groupId}`;
}
