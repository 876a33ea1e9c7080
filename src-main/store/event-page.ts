/** A page of the event log as clients read it, the same from either backend (conversation.ts, pg/conversation.ts). */
import { ROOM, dmConversation, groupConversation } from '../../src-shared/protocol/conversation.js';
import type { ChatMessage, ConversationEvent, EventPage } from '../../src-shared/protocol/objects.js';

/** One row of the log as both backends read it. */
export interface EventRow {
  eventId: number;
  kind: ConversationEvent['kind'] | 'member';
  conv: string;
  messageId: number | null;
  user: string | null;
  upTo: number | null;
}

/** The ids of the messages a page's rows point at, to load at once. */
export function messageIdsOf(page: readonly EventRow[]): number[] {
  return page.flatMap((row) => (row.messageId === null ? [] : [row.messageId]));
}

/** The page's rows as events: reads as they are, changes with their message; membership rows are not events of their own. */
export function toEventPage(page: readonly EventRow[], messages: ReadonlyMap<number, ChatMessage>, hasMore: boolean): EventPage {
  const events: ConversationEvent[] = [];
  for (const row of page) {
    if (row.kind === 'read') {
      events.push({ eventId: row.eventId, kind: 'read', conv: row.conv, user: row.user!, upTo: row.upTo! });
    } else if (row.kind !== 'member') {
      const changedMessage = messages.get(row.messageId!);
      if (changedMessage) events.push({ eventId: row.eventId, kind: row.kind, message: changedMessage });
    }
  }
  return { events, hasMore };
}

/** A row of one range of the whole log, with who wrote a read position and whether they share theirs. */
export interface RangeRow extends EventRow {
  readerId: number | null;
  readerShares: boolean;
}

/** Who of the users asked about can read each conversation a range touches, and which of them share read positions. */
export interface RangeReaders {
  readers: ReadonlyMap<string, readonly number[]>;
  sharing: ReadonlySet<number>;
}

/**
 * One range of the log (rows ascending) as each user may see it: what events() answers each of them for
 * the range, from one read for them all. A conversation's rows go to those who can read it now; a read
 * position to its reader, and outside the room to those who share theirs when its reader shares too.
 */
export function eventsByUser(rows: readonly RangeRow[], messages: ReadonlyMap<number, ChatMessage>, { readers, sharing }: RangeReaders): Map<number, ConversationEvent[]> {
  const seen = new Map<number, RangeRow[]>();
  for (const row of rows) {
    for (const userId of readers.get(row.conv) ?? []) {
      const shown = row.kind !== 'read' || row.readerId === userId || (row.conv !== ROOM && row.readerShares && sharing.has(userId));
      if (!shown) continue;
      const list = seen.get(userId);
      if (list) list.push(row);
      else seen.set(userId, [row]);
    }
  }
  return new Map([...seen].map(([userId, page]) => [userId, toEventPage(page, messages, false).events]));
}

/** What a range's read-back asks the store about its conversations: the people of its direct ones and its groups. */
export function rangeConversations(rows: readonly RangeRow[]): { convs: Set<string>; people: number[]; groupIds: number[] } {
  const convs = new Set(rows.map((row) => row.conv));
  const people = new Set<number>();
  const groupIds: number[] = [];
  for (const conv of convs) {
    const [kind, a, b] = conv.split(':');
    if (kind === 'dm') people.add(Number(a)).add(Number(b));
    else if (kind === 'group') groupIds.push(Number(a));
  }
  return { convs, people: [...people], groupIds };
}

/**
 * Who can read each of `convs` now: every user asked reads the room; a direct conversation those whose list
 * holds the partner (dm_partners), a group its members, as the store found them.
 */
export function rangeReaders(
  userIds: readonly number[],
  convs: ReadonlySet<string>,
  found: { direct: { userId: number; partnerId: number }[]; members: { userId: number; groupId: number }[]; sharing: number[] },
): RangeReaders {
  const readers = new Map<string, number[]>();
  const add = (conv: string, userId: number): void => {
    if (!convs.has(conv)) return;
    const list = readers.get(conv);
    if (list) list.push(userId);
    else readers.set(conv, [userId]);
  };
  for (const userId of userIds) add(ROOM, userId);
  for (const { userId, partnerId } of found.direct) add(dmConversation(userId, partnerId), userId);
  for (const { userId, groupId } of found.members) add(groupConversation(groupId), userId);
  return { readers, sharing: new Set(found.sharing) };
}
