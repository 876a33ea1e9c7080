/**
 * How the app shows end-to-end encrypted messages (issue 35): as the same ChatMessage as a plain one,
 * flagged `e2ee`, with an id of its own range. No zod, no Node: the renderer imports this.
 */
import type { ConversationKey } from './protocol/conversation.js';
import type { ChatMessage } from './protocol/objects.js';

/**
 * An encrypted message's id is this plus the host's id of its MLS frame (PROTOCOL §20.4), the same on
 * every device: above every message id a host gives, so a conversation's encrypted messages come after
 * its plain history and one history page (`before`) runs through both.
 */
export const E2EE_ID_BASE = 2 ** 52;

export const isE2eeId = (id: number): boolean => id >= E2EE_ID_BASE;

/** A message this device decrypted (or encrypted and sent): the host never had its text. */
export type E2eeMessage = ChatMessage & { e2ee: true };

/** Whether the message travelled end-to-end encrypted. */
export const isE2ee = (message: ChatMessage): boolean => (message as Partial<E2eeMessage>).e2ee === true;

/** Direct messages and groups are encrypted end to end when the host and this app can; the room never is. */
export const encryptable = (conv: ConversationKey): boolean => conv.startsWith('dm:') || conv.startsWith('group:');
