import { describe, expect, it } from 'vitest';
import { quoteOf, reactionsWith, withChangedMessage } from './message-changes.js';
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

describe('reactionsWith', () => {
  it("adds a user's emoji after the others, takes it back by name whatever its case, and drops an emoji nobody holds", () => {
    const liked = message(1, 'hi', { reactions: [{ emoji: '👍', users: ['bob'] }] });
    expect(reactionsWith(liked, '👍', 'Cem', true)).toEqual({ reactions: [{ emoji: '👍', users: ['bob', 'Cem'] }] });
    expect(reactionsWith(liked, '🎉', 'cem', true)).toEqual({ reactions: [{ emoji: '👍', users: ['bob'] }, { emoji: '🎉', users: ['cem'] }] });
    expect(reactionsWith(liked, '👍', 'BOB', false)).toEqual({});
    expect(reactionsWith(liked, '👍', 'bob', true)).toEqual({ reactions: [{ emoji: '👍', users: ['bob'] }] });
  });
});
