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

/** A day of the daily quota (UTC days: day n is [n, n + 1) × DAY_MS). */
export const DAY_MS = 86_400_000;

/** Thrown by an edit that would take its author past the daily quota of bytes (the quota sends count toward): nothing changed. */
export class OverDailyQuota extends Error {
  constructor(
    readonly limit: number,
    readonly retryAfterMs: number,
  ) {
    super(`over the daily quota of ${limit} bytes`);
    this.name = 'OverDailyQuota';
  }
}

/** Thrown by a change whose user cannot read the conversation (or whose message is gone) as it commits: nothing changed. */
export class NotReadable extends Error {
  constructor(what: string) {
    super(`${what} cannot be read by the user now`);
    this.name = 'NotReadable';
  }
}
