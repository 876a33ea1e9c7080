import { describe, expect, it } from 'vitest';
import { checkGroupName, checkUserName, foldForSearch, lookalikeSkeletons, nameSkeleton } from './text.js';
import { nameKey } from './protocol/names.js';

describe('foldForSearch', () => {
  it('folds Turkish dotted and dotless i alike in both cases', () => {
    for (const word of ['İstanbul', 'ISTANBUL', 'istanbul', 'ıstanbul']) expect(foldForSearch(word)).toBe('istanbul');
  });
  it('drops diacritics', () => {
    expect(foldForSearch('Şule çiçek ĞÜÖ café')).toBe('sule cicek guo cafe');
  });
});

describe('user names', () => {
  it('accepts letters of any script, digits and _ . -', () => {
    expect(checkUserName('Mücahit_1.a-b')).toEqual({ ok: true, name: 'Mücahit_1.a-b' });
    expect(checkUserName('Ахмет').ok).toBe(true);
  });
  it('refuses control, invisible and bidi characters, spaces and symbols', () => {
    for (const bad of ['', 'a b', 'ali\u200bce', 'ali\u202ece', 'bob\u0007', 'a~b', 'x'.repeat(33), '\u0301a']) {
      expect(checkUserName(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });
  it('refuses invisible letters and marks: Hangul fillers, grapheme joiner, variation selectors', () => {
    for (const bad of ['ali\u3164ce', '\u3164', '\u1160x', 'x\uffa0', 'alice\u034f', 'alice\ufe0f', 'ali\u2066ce', 'ali\u00adce']) {
      expect(checkUserName(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });
  it('applies a smaller maximum length when given', () => {
    expect(checkUserName('abcdef', 5).ok).toBe(false);
    expect(checkUserName('abcde', 5).ok).toBe(true);
    expect(checkGroupName('abcdef', 5).ok).toBe(false);
  });
  it('compares names case-insensitively, Turkish i included', () => {
    expect(nameKey('ALİ')).toBe(nameKey('ali'));
    expect(nameKey('Alice')).toBe(nameKey('aLICE'));
  });
  it('gives look-alike names the same skeleton', () => {
    const alice = nameSkeleton('alice');
    for (const spoof of ['аlice', 'ALICE', 'a1ice', 'alicé', 'al.ice', 'ａｌｉｃｅ']) {
      expect(nameSkeleton(spoof), spoof).toBe(alice);
    }
    expect(nameSkeleton('bob')).not.toBe(alice);
  });
  it('also reads capital I as l when looking for spoofs, without splitting case variants', () => {
    expect(lookalikeSkeletons('aIice')).toContain(nameSkeleton('alice'));
    expect(lookalikeSkeletons('ALICE')).toContain(nameSkeleton('alice'));
    expect(lookalikeSkeletons('bob')).toEqual([nameSkeleton('bob')]);
  });
});

describe('group names', () => {
  it('allows spaces and punctuation but not "~" or control characters', () => {
    expect(checkGroupName('  Project   Team (2026) ')).toEqual({ ok: true, name: 'Project Team (2026)' });
    expect(checkGroupName('a~b').ok).toBe(false);
    expect(checkGroupName('a\u202eb').ok).toBe(false);
  });
});
