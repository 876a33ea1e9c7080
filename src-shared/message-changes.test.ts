import { describe, expect, it } from 'vitest';
import { quoteOf, withChangedMessage } from './message-changes.js';
import type { ChatMessage } from './protocol/objects.js';

const message = (id: number, text: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  id,
  conv: 'room',
  from: 'ann',
  text,
  ts: id,
  clientMsgId: `c${id}`,
  ...extra,
});

describe('withChangedMessage', () => {
  it('replaces the message and refreshes the quotes of replies to it', () => {
    const original = message(1, 'first line\nsecond');
    const reply = message(2, 'yes', { replyTo: quoteOf(original) });
    const edited = { ...original, text: '\n  new first\nrest', editedAt: 9 };
    expect(withChangedMessage([original, reply], edited)).toEqual([edited, { ...reply, replyTo: { id: 1, from: 'ann', snippet: 'new first' } }]);
    const deleted = { ...original, text: '', deleted: true as const };
    expect(withChangedMessage([reply], deleted)).toEqual([{ ...reply, replyTo: { id: 1, from: 'ann', snippet: '', deleted: true } }]);
  });

  it('returns the same array when it holds neither the message nor a reply to it', () => {
    const held = [message(1, 'a')];
    expect(withChangedMessage(held, message(5, 'b'))).toBe(held);
  });

  it('quotes at most the snippet length of the first line', () => {
    expect([...quoteOf(message(1, 'x'.repeat(500))).snippet]).toHaveLength(100);
  });
});
