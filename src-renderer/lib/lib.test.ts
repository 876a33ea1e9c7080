import { describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../store/messages.js';
import { roomMessage } from '../store/test-data.js';
import { splitAtMatch } from './highlight.js';
import { formatTime, nameDay } from './time.js';
import { buildTimeline } from './timeline.js';

const at = (y: number, m: number, d: number, h: number, min = 0) => new Date(y, m - 1, d, h, min).getTime();

describe('times', () => {
  it('formats times as HH:MM', () => {
    expect(formatTime(at(2025, 3, 4, 9, 5))).toBe('09:05');
    expect(formatTime(at(2025, 3, 4, 23, 59))).toBe('23:59');
  });

  it('names today and yesterday and dates older days', () => {
    const now = at(2025, 3, 4, 0, 30);
    expect(nameDay(at(2025, 3, 4, 0, 1), now, 'en')).toEqual({ relative: 'today' });
    expect(nameDay(at(2025, 3, 3, 23, 59), now, 'en')).toEqual({ relative: 'yesterday' });
    expect(nameDay(at(2025, 2, 28, 12), now, 'en')).toEqual({ date: expect.stringContaining('28') });
  });
});

describe('conversation timeline', () => {
  const message = (id: number, ts: number) => ({ ...roomMessage(id, 'bob'), ts });
  const kinds = (items: ReturnType<typeof buildTimeline>) =>
    items.map((item) => (item.kind === 'message' ? `m${item.message.id}` : item.kind === 'notice' ? `n:${item.notice.user}` : item.kind));

  it('separates days and weaves join notices in by time', () => {
    const items = buildTimeline(
      [message(1, at(2025, 3, 3, 10)), message(2, at(2025, 3, 4, 9)), message(3, at(2025, 3, 4, 11))],
      [],
      [{ user: 'carol', online: true, ts: at(2025, 3, 4, 10) }],
      { hasMore: false, hasNewer: false },
    );
    expect(kinds(items)).toEqual(['day', 'm1', 'day', 'm2', 'n:carol', 'm3']);
  });

  it('puts pending messages last and leaves out notices older than the loaded messages', () => {
    const pending: OutboxEntry = {
      clientMsgId: 'x',
      target: { kind: 'room' },
      text: 'hi',
      ts: at(2025, 3, 4, 12),
      status: 'queued',
      error: null,
    };
    const items = buildTimeline(
      [message(5, at(2025, 3, 4, 10))],
      [pending],
      [{ user: 'dave', online: false, ts: at(2025, 3, 4, 8) }],
      { hasMore: true, hasNewer: false },
    );
    expect(kinds(items)).toEqual(['day', 'm5', 'pending']);
  });
});

describe('search match highlighting', () => {
  it('finds the match ignoring case and Turkish letters and keeps the original text', () => {
    expect(splitAtMatch('Yarın İstanbul’a gidiyorum', 'istanbul')).toEqual([
      { text: 'Yarın ', match: false },
      { text: 'İstanbul', match: true },
      { text: '’a gidiyorum', match: false },
    ]);
    expect(splitAtMatch('Çok güzel', 'guz')).toEqual([
      { text: 'Çok ', match: false },
      { text: 'güz', match: true },
      { text: 'el', match: false },
    ]);
  });

  it('returns the text unmarked when nothing matches', () => {
    expect(splitAtMatch('hello', 'bye')).toEqual([{ text: 'hello', match: false }]);
  });
});
