import { describe, expect, it } from 'vitest';
import { mentionQuery, richText } from './rich-text.js';

describe('links in message text', () => {
  it('links web and mail addresses, the rest stays text', () => {
    expect(richText('see https://example.org/a?b=1 and www.example.com, or mail bob@example.org', [], null)).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'www.example.com', href: 'http://www.example.com' },
      { kind: 'text', text: ', or mail ' },
      { kind: 'link', text: 'bob@example.org', href: 'mailto:bob@example.org' },
    ]);
  });

  it('never links other schemes, protocol-relative addresses or script', () => {
    for (const text of ['javascript:alert(1)', 'ftp://files.example.org/x', '//example.org/x', 'file:///etc/passwd', 'data:text/html,hi']) {
      expect(richText(text, [], null).filter((part) => part.kind === 'link')).toEqual([]);
    }
  });

  it('links an address without a scheme only when it starts with www.', () => {
    expect(richText('see readme.md or notes.at', [], null)).toEqual([{ kind: 'text', text: 'see readme.md or notes.at' }]);
  });

  it('keeps the punctuation that ends a sentence outside the link', () => {
    expect(richText('look: https://example.org.', [], null).at(-2)).toEqual({ kind: 'link', text: 'https://example.org', href: 'https://example.org' });
  });
});

describe('mentions in message text', () => {
  const people = ['alice', 'Bob', 'zoë'];

  it('marks known names, yours apart, and leaves unknown ones as text', () => {
    expect(richText('@bob and @Alice, ask @carol or @zoë.', people, 'alice')).toEqual([
      { kind: 'mention', text: '@bob', name: 'bob', me: false },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', text: '@Alice', name: 'Alice', me: true },
      { kind: 'text', text: ', ask @carol or ' },
      { kind: 'mention', text: '@zoë', name: 'zoë', me: false },
      { kind: 'text', text: '.' },
    ]);
  });

  it('needs the whole name and a start of word', () => {
    expect(richText('@bobby me@bob x@bob', people, null).some((part) => part.kind === 'mention')).toBe(false);
  });

  it('highlights what the host counts as a mention (PROTOCOL §17.5): trailing "_" dropped too, "@@zoë" found', () => {
    expect(richText('thanks @bob_, and @@zoë', people, null)).toEqual([
      { kind: 'text', text: 'thanks ' },
      { kind: 'mention', text: '@bob', name: 'bob', me: false },
      { kind: 'text', text: '_, and @' },
      { kind: 'mention', text: '@zoë', name: 'zoë', me: false },
    ]);
  });

  it('does not find mentions inside links', () => {
    expect(richText('https://example.org/@bob', people, null)).toEqual([
      { kind: 'link', text: 'https://example.org/@bob', href: 'https://example.org/@bob' },
    ]);
  });
});

describe('the mention being typed', () => {
  it('is the "@word" right before the caret', () => {
    expect(mentionQuery('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('hi @bo there', 12)).toBeNull();
    expect(mentionQuery('mail me@bo', 10)).toBeNull();
    expect(mentionQuery('hi @bo there', 6)).toEqual({ start: 3, query: 'bo' });
  });
});
