/**
 * Who can read a conversation, as the server checks it before a change and the store again as the change
 * commits (issue 32: a member removed or a group deleted meanwhile, on this node or another, wins).
 */
import { ROOM } from '../../src-shared/protocol/conversation.js';

/** Whether the user can read the conversation now: everyone the room, its two people a direct one, its members a group. */
export function canReadConversation<Member extends boolean | Promise<boolean>>(
  conv: string,
  userId: number,
  isMember: (groupId: number, userId: number) => Member,
): boolean | Member {
  if (conv === ROOM) return true;
  const [kind, a, b] = conv.split(':');
  if (kind === 'dm') return Number(a) === userId || Number(b) === userId;
  if (kind === 'group') return isMember(Number(a), userId);
  return false;
}

/** Thrown by a change whose user cannot read the conversation (or whose message is gone) as it commits: nothing changed. */
export class NotReadable extends Error {
  constructor(what: string) {
    super(`${what} cannot be read by the user now`);
    this.name = 'NotReadable';
  }
}
