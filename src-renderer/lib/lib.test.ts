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
    items.map((item) => (item.kind === 'message' ? `m${item.message.id}` : item.kind === 'notice' && 'user' in item.notice ? `n:${item.notice.user}` : item.kind));

  it('separates days and weaves join notices in by time', () => {
    const items = buildTimeline(
      [message(1, at(2025, 3, 3, 10)), message(2, at(2025, 3, 4, 9)), message(3, at(2025, 3, 4, 11))],
      [],
      [{ kind: 'joined', user: 'carol', ts: at(2025, 3, 4, 10) }],
      { hasMore: false, hasNewer: false },
      'alice',
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
      [{ kind: 'left', user: 'dave', ts: at(2025, 3, 4, 8) }],
      { hasMore: true, hasNewer: false },
      'alice',
    );
    expect(kinds(items)).toEqual(['day', 'm5', 'pending']);
  });

  it('groups one sender’s messages a few minutes apart under one header, not across days, notices or senders', () => {
    const from = (id: number, sender: string, ts: number) => ({ ...roomMessage(id, sender), ts });
    const items = buildTimeline(
      [
        from(1, 'bob', at(2025, 3, 3, 23, 58)),
        from(2, 'bob', at(2025, 3, 4, 0, 1)),
        from(3, 'Bob', at(2025, 3, 4, 0, 5)),
        from(4, 'bob', at(2025, 3, 4, 0, 20)),
        from(5, 'alice', at(2025, 3, 4, 0, 21)),
        from(6, 'alice', at(2025, 3, 4, 0, 23)),
      ],
      [{ clientMsgId: 'x', target: { kind: 'room' }, text: 'hi', ts: at(2025, 3, 4, 0, 24), status: 'queued', error: null }],
      [{ kind: 'joined', user: 'carol', ts: at(2025, 3, 4, 0, 22) }],
      { hasMore: false, hasNewer: false },
      'alice',
    );
    const continued = items.flatMap((item): [number | string, boolean][] =>
      item.kind === 'message' ? [[item.message.id, item.continued]] : item.kind === 'pending' ? [['pending', item.continued]] : [],
    );
    expect(continued).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
      [5, false],
      [6, false],
      ['pending', true],
    ]);
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
