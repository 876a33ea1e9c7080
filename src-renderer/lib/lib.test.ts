import { describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../store/messages.js';
import { roomMessage } from '../store/test-data.js';
import { splitAtMatch } from './highlight.js';
import { formatDate, formatTime, nameDay } from './time.js';
import { buildTimeline, presenceSummary, sameItem } from './timeline.js';

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

  it('formats a date in each language as the runtime does', () => {
    const options = { dateStyle: 'full', timeStyle: 'short' } as const;
    for (const language of ['en', 'tr']) {
      for (const ts of [at(2025, 3, 4, 9, 5), at(2026, 12, 31, 23, 59)]) {
        expect(formatDate(ts, language, options)).toBe(new Date(ts).toLocaleString(language, options));
      }
    }
    expect(formatDate(at(2025, 3, 4, 9), 'tr', { day: 'numeric', month: 'long' })).toBe('4 Mart');
  });
});

describe('conversation timeline', () => {
  const message = (id: number, ts: number) => ({ ...roomMessage(id, 'bob'), ts });
  const kinds = (items: ReturnType<typeof buildTimeline>) =>
    items.map((item) =>
      item.kind === 'message'
        ? `m${item.message.id}`
        : item.kind === 'notice'
          ? `n:${item.notice.user}`
          : item.kind === 'presence'
            ? `joins:${item.notices.map((notice) => notice.user).join(',')}`
            : item.kind,
    );

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
      tried: false,
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

  it('shows a message once when the host stored it before answering its sending: not also as pending', () => {
    const stored = { ...message(6, at(2025, 3, 4, 12)), from: 'alice', clientMsgId: 'mine' };
    const pending: OutboxEntry = { clientMsgId: 'mine', target: { kind: 'room' }, text: stored.text, ts: stored.ts, status: 'queued', error: null, tried: false };
    const items = buildTimeline([stored], [pending], [], { hasMore: false, hasNewer: false }, 'alice');
    expect(kinds(items)).toEqual(['day', 'm6']);
  });

  it('sums up three or more joins and leaves in a row in one line, not across messages or days', () => {
    const change = (user: string, kind: 'joined' | 'left', ts: number) => ({ kind, user, ts });
    const items = buildTimeline(
      [message(1, at(2025, 3, 4, 10, 5)), message(2, at(2025, 3, 4, 23, 0))],
      [],
      [
        change('ann', 'joined', at(2025, 3, 4, 10)),
        change('bob', 'joined', at(2025, 3, 4, 10, 1)),
        change('cem', 'left', at(2025, 3, 4, 10, 2)),
        change('dan', 'joined', at(2025, 3, 4, 10, 6)),
        change('eve', 'joined', at(2025, 3, 4, 10, 7)),
        change('fay', 'joined', at(2025, 3, 4, 23, 58)),
        change('gus', 'joined', at(2025, 3, 4, 23, 59)),
        change('hal', 'left', at(2025, 3, 5, 0, 1)),
        { kind: 'chatEnded' as const, user: 'ivy', ts: at(2025, 3, 5, 0, 2) },
      ],
      { hasMore: false, hasNewer: false },
      'alice',
    );
    expect(kinds(items)).toEqual([
      'day',
      'joins:ann,bob,cem',
      'm1',
      'n:dan',
      'n:eve',
      'm2',
      'n:fay',
      'n:gus',
      'day',
      'n:hal',
      'n:ivy',
    ]);
    const run = items.find((item) => item.kind === 'presence');
    // The key stays while later changes join the run, so an opened list stays open.
    const longer = buildTimeline(
      [],
      [],
      [...(run?.kind === 'presence' ? run.notices : []), change('dan', 'joined', at(2025, 3, 4, 10, 3))],
      { hasMore: false, hasNewer: false },
      'alice',
    );
    expect(longer.find((item) => item.kind === 'presence')?.key).toBe(run?.key);
  });

  it('says per person what a run of joins and leaves came to, whatever the case of their name', () => {
    const change = (user: string, kind: 'joined' | 'left') => ({ kind, user, ts: 1 });
    expect(
      presenceSummary([
        change('ann', 'joined'),
        change('bob', 'joined'),
        change('Ann', 'left'),
        change('cem', 'left'),
        change('cem', 'joined'),
        change('dan', 'left'),
        change('eve', 'joined'),
        change('bob', 'left'),
        change('bob', 'joined'),
      ]),
    ).toEqual([
      { change: 'joined', users: ['bob', 'eve'] },
      { change: 'left', users: ['dan'] },
      { change: 'joinedAndLeft', users: ['Ann'] },
      { change: 'rejoined', users: ['cem'] },
    ]);
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
      [{ clientMsgId: 'x', target: { kind: 'room' }, text: 'hi', ts: at(2025, 3, 4, 0, 24), status: 'queued', error: null, tried: false }],
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

  it('keeps a row the same across builds until what it shows changes', () => {
    const change = (user: string, ts: number) => ({ kind: 'joined' as const, user, ts });
    const messages = [message(1, at(2025, 3, 4, 10)), message(2, at(2025, 3, 4, 10, 1))];
    const notices = [change('ann', at(2025, 3, 4, 9)), change('bob', at(2025, 3, 4, 9, 1)), change('cem', at(2025, 3, 4, 9, 2))];
    const bounds = { hasMore: false, hasNewer: false };
    const before = buildTimeline(messages, [], notices, bounds, 'alice');
    // A new message comes: every row before it is the same, though each build makes new items.
    const after = buildTimeline([...messages, message(3, at(2025, 3, 4, 10, 2))], [], notices, bounds, 'alice');
    expect(after.slice(0, before.length).every((item, index) => item !== before[index] && sameItem(item, before[index]!))).toBe(true);
    // An edited message is a new object in the store: its row changes, and no other.
    const edited = buildTimeline([messages[0]!, { ...messages[1]!, text: 'edited' }], [], notices, bounds, 'alice');
    expect(edited.map((item, index) => sameItem(item, before[index]!))).toEqual([true, true, true, false]);
    // One more join in the run, one more message under the same header: both rows change.
    const joined = buildTimeline(messages, [], [...notices, change('dan', at(2025, 3, 4, 9, 3))], bounds, 'alice');
    expect(sameItem(joined[1]!, before[1]!)).toBe(false);
    // A notice between the two: the same message no longer under the header before it.
    const apart = buildTimeline(messages, [], [...notices, { kind: 'chatEnded', user: 'dan', ts: at(2025, 3, 4, 10) + 30_000 }], bounds, 'alice');
    expect(sameItem(apart[4]!, before[3]!)).toBe(false);
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

  it('marks what the host matched, folding as the host does (foldForSearch)', () => {
    // The host reads a final sigma as sigma: "λογοσ" finds "λόγος".
    expect(splitAtMatch('Ο λόγος', 'λογοσ')).toEqual([
      { text: 'Ο ', match: false },
      { text: 'λόγος', match: true },
    ]);
    // A ligature that would fold longer stays itself on the host: "fi" does not find "ﬁle", so nothing is marked.
    expect(splitAtMatch('ﬁle', 'fi')).toEqual([{ text: 'ﬁle', match: false }]);
    expect(splitAtMatch('a ﬁle', 'ﬁ')).toEqual([
      { text: 'a ', match: false },
      { text: 'ﬁ', match: true },
      { text: 'le', match: false },
    ]);
  });
});
