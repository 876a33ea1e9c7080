/** A page of the event log as clients read it, the same from either backend (conversation.ts, pg/conversation.ts). */
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
