import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import type { OutboxEntry, PresenceNotice } from '../store/messages.js';
import { startOfDay } from './time.js';

export type TimelineItem =
  | { kind: 'day'; key: string; ts: number }
  | { kind: 'message'; key: string; message: ChatMessage }
  | { kind: 'pending'; key: string; entry: OutboxEntry }
  | { kind: 'notice'; key: string; notice: PresenceNotice };

type Entry = Exclude<TimelineItem, { kind: 'day' }>;

const timeOf = (item: Entry) =>
  item.kind === 'message' ? item.message.ts : item.kind === 'pending' ? item.entry.ts : item.notice.ts;

/**
 * The rows of a conversation view: stored messages in id order with join/leave
 * notices woven in by time, then your pending messages, and a day separator
 * wherever the day changes. Notices outside the loaded stretch are left out,
 * since the messages around them are not shown.
 */
export function buildTimeline(
  messages: ChatMessage[],
  pending: OutboxEntry[],
  notices: PresenceNotice[],
  bounds: { hasMore: boolean; hasNewer: boolean },
): TimelineItem[] {
  const first = messages[0];
  const last = messages.at(-1);
  const shown = notices.filter(
    (notice) =>
      (!bounds.hasMore || (first !== undefined && notice.ts >= first.ts)) &&
      (!bounds.hasNewer || (last !== undefined && notice.ts <= last.ts)),
  );
  const entries: Entry[] = [];
  let next = 0;
  for (const message of messages) {
    while (next < shown.length && shown[next]!.ts < message.ts) entries.push(noticeItem(shown[next++]!));
    entries.push({ kind: 'message', key: `m${message.id}`, message });
  }
  while (next < shown.length) entries.push(noticeItem(shown[next++]!));
  for (const entry of pending) entries.push({ kind: 'pending', key: `p${entry.clientMsgId}`, entry });

  const items: TimelineItem[] = [];
  let day = -Infinity;
  for (const entry of entries) {
    const entryDay = startOfDay(timeOf(entry));
    // Only forward: clocks of different machines may disagree a little around midnight.
    if (entryDay > day) {
      day = entryDay;
      items.push({ kind: 'day', key: `d${day}`, ts: day });
    }
    items.push(entry);
  }
  return items;
}

function noticeItem(notice: PresenceNotice): Entry {
  return { kind: 'notice', key: `n${notice.ts}-${notice.online ? 'on' : 'off'}-${notice.user}`, notice };
}
