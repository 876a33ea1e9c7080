import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { isEventLine } from './call-events.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { Notice, OutboxEntry } from '../store/messages.js';
import { startOfDay } from './time.js';

export type TimelineItem =
  | { kind: 'day'; key: string; ts: number }
  /** `continued`: under the header of the sender's message just before (see GROUP_WITHIN_MS). */
  | { kind: 'message'; key: string; message: ChatMessage; continued: boolean }
  | { kind: 'pending'; key: string; entry: OutboxEntry; continued: boolean }
  | { kind: 'notice'; key: string; notice: Notice }
  /** PRESENCE_RUN or more joins and leaves in a row, on one day: one line sums them up. */
  | { kind: 'presence'; key: string; notices: Notice[] }
  /** "New messages": the first unread message follows. */
  | { kind: 'unread'; key: string };

/** Messages from one sender this close to the previous one share its header, as in most messengers. */
export const GROUP_WITHIN_MS = 5 * 60_000;

/**
 * How many joins and leaves in a row one line sums up (as Element does): a host's restart brings
 * everyone back at once, which would otherwise bury the room's last messages under a line a person.
 */
const PRESENCE_RUN = 3;

type Entry = Exclude<TimelineItem, { kind: 'day' | 'unread' | 'presence' }>;

/** What a run of joins and leaves came to for one person: their first change and their last. */
export type PresenceChange = 'joined' | 'left' | 'joinedAndLeft' | 'rejoined';
const CHANGE_ORDER: PresenceChange[] = ['joined', 'left', 'joinedAndLeft', 'rejoined'];

const timeOf = (item: Entry) =>
  item.kind === 'message' ? item.message.ts : item.kind === 'pending' ? item.entry.ts : item.notice.ts;

/**
 * The rows of a conversation view: stored messages in id order with notices
 * woven in by time, then your pending messages, and a day separator wherever
 * the day changes. Notices outside the loaded stretch are left out, since the
 * messages around them are not shown. `me` names the sender of pending messages.
 * `unreadAfter`: the "New messages" line goes before the first message after this id.
 */
export function buildTimeline(
  messages: ChatMessage[],
  pending: OutboxEntry[],
  notices: Notice[],
  bounds: { hasMore: boolean; hasNewer: boolean },
  me: string | null,
  unreadAfter: number | null = null,
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
    entries.push({ kind: 'message', key: `m${message.id}`, message, continued: false });
  }
  while (next < shown.length) entries.push(noticeItem(shown[next++]!));
  // The host's push of your message can come before the answer to its sending: shown once, as stored.
  const stored = new Set(messages.map((message) => message.clientMsgId));
  for (const entry of pending) if (!stored.has(entry.clientMsgId)) entries.push({ kind: 'pending', key: `p${entry.clientMsgId}`, entry, continued: false });

  const items: TimelineItem[] = [];
  let day = -Infinity;
  let dividerPlaced = unreadAfter === null;
  for (const entry of entries) {
    const entryDay = startOfDay(timeOf(entry));
    // Only forward: clocks of different machines may disagree a little around midnight.
    if (entryDay > day) {
      day = entryDay;
      items.push({ kind: 'day', key: `d${day}`, ts: day });
    }
    if (!dividerPlaced && entry.kind === 'message' && entry.message.id > unreadAfter!) {
      dividerPlaced = true;
      items.push({ kind: 'unread', key: 'unread' });
    }
    const previous = items.at(-1);
    if (isPresence(entry) && previous !== undefined && (previous.kind === 'presence' || isPresence(previous))) {
      items[items.length - 1] = joinRun(previous, entry.notice);
      continue;
    }
    const sender = senderOf(entry, me);
    if (entry.kind !== 'notice' && previous !== undefined && (previous.kind === 'message' || previous.kind === 'pending')) {
      const sameSender = sender !== null && senderOf(previous, me) === sender;
      items.push({ ...entry, continued: sameSender && timeOf(entry) - timeOf(previous) <= GROUP_WITHIN_MS });
    } else {
      items.push(entry);
    }
  }
  return items.flatMap((item) => (item.kind === 'presence' && item.notices.length < PRESENCE_RUN ? item.notices.map(noticeItem) : [item]));
}

/** Per change, who came to it over the run, in the order they first appear; a name as its last notice spells it. */
export function presenceSummary(notices: readonly Notice[]): { change: PresenceChange; users: string[] }[] {
  const people = new Map<string, { first: Notice['kind']; last: Notice }>();
  for (const notice of notices) {
    const key = nameKey(notice.user);
    const seen = people.get(key);
    if (seen) seen.last = notice;
    else people.set(key, { first: notice.kind, last: notice });
  }
  const byChange = new Map<PresenceChange, string[]>();
  for (const { first, last } of people.values()) {
    const change: PresenceChange = first === last.kind ? (first === 'joined' ? 'joined' : 'left') : first === 'joined' ? 'joinedAndLeft' : 'rejoined';
    byChange.set(change, [...(byChange.get(change) ?? []), last.user]);
  }
  return CHANGE_ORDER.flatMap((change) => (byChange.has(change) ? [{ change, users: byChange.get(change)! }] : []));
}

const isPresence = (item: TimelineItem): item is Extract<TimelineItem, { kind: 'notice' }> =>
  item.kind === 'notice' && (item.notice.kind === 'joined' || item.notice.kind === 'left');

/** The run so far with one more notice (a run is this function's own); keyed by its first, so that it keeps its key as it grows. */
function joinRun(run: Extract<TimelineItem, { kind: 'notice' | 'presence' }>, notice: Notice): TimelineItem {
  if (run.kind === 'notice') return { kind: 'presence', key: `r${run.key}`, notices: [run.notice, notice] };
  run.notices.push(notice);
  return run;
}

/** Who wrote the entry; null for lines nobody wrote, which never share a header. */
function senderOf(entry: Entry, me: string | null): string | null {
  if (entry.kind === 'message') return isEventLine(entry.message) ? null : nameKey(entry.message.from);
  if (entry.kind === 'pending') return me === null ? null : nameKey(me);
  return null;
}

function noticeItem(notice: Notice): Entry {
  return { kind: 'notice', key: `n${notice.ts}-${notice.kind}-${notice.user}`, notice };
}

/**
 * Whether two builds of a row show the same thing: each build makes new items, though the messages,
 * outbox entries and notices in them are the store's own, replaced only when they change. A row
 * renders again only when this is false, not for every message that comes.
 */
export function sameItem(a: TimelineItem, b: TimelineItem): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case 'day':
      return b.kind === 'day' && a.ts === b.ts;
    case 'unread':
      return b.kind === 'unread';
    case 'notice':
      return b.kind === 'notice' && a.notice === b.notice;
    case 'message':
      return b.kind === 'message' && a.message === b.message && a.continued === b.continued;
    case 'pending':
      return b.kind === 'pending' && a.entry === b.entry && a.continued === b.continued;
    case 'presence':
      return b.kind === 'presence' && a.notices.length === b.notices.length && a.notices.every((notice, index) => notice === b.notices[index]);
  }
}
