/**
 * Conversation keys as the protocol defines them: "room", "dm:<userId>:<userId>"
 * (smaller id first) or "group:<groupId>". No zod, no Node: the renderer imports this.
 */

import { LIMITS } from './limits.js';

export type ConversationKey = string;
export type ConversationKind = 'room' | 'dm' | 'group';

/** What a key must match on the wire (at most 64 characters). */
export const CONVERSATION_KEY_PATTERN = /^(room|dm:[1-9]\d{0,15}:[1-9]\d{0,15}|group:[1-9]\d{0,15})$/;

export const ROOM: ConversationKey = 'room';

export function dmConversation(userIdA: number, userIdB: number): ConversationKey {
  return userIdA < userIdB ? `dm:${userIdA}:${userIdB}` : `dm:${userIdB}:${userIdA}`;
}

export function groupConversation(groupId: number): ConversationKey {
  return `group:${groupId}`;
}

export function conversationKind(conv: ConversationKey): ConversationKind {
  if (conv.startsWith('dm:')) return 'dm';
  if (conv.startsWith('group:')) return 'group';
  return 'room';
}

/** What a reply quotes of its original (ChatMessage.replyTo.snippet): the first line that is not blank, shortened. */
export function replySnippet(text: string): string {
  const line = text.split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  const characters = [...line.trim()];
  return characters.length > LIMITS.replySnippetLength
    ? `${characters.slice(0, LIMITS.replySnippetLength - 1).join('')}…`
    : characters.join('');
}
