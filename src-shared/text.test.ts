import { describe, expect, it } from 'vitest';
import confusablesData from 'unhomoglyph/data.json' with { type: 'json' };
import { foldForSearch } from './fold.js';
import { checkGroupName, checkUserName, lookalikeSkeletons, nameSkeleton, roomNamesLookAlike } from './text.js';
import { nameKey } from './protocol/names.js';

/** Whether the two names share a skeleton: what registration checks against every existing account. */
function looksAlike(one: string, other: string): boolean {
  const skeletons = new Set(lookalikeSkeletons(one));
  return lookalikeSkeletons(other).some((candidate) => skeletons.has(candidate));
}

describe('foldForSearch', () => {
  it('is never longer than the text, whatever characters it holds', () => {
    for (const text of ['\ufdfa', '\ufdfa'.repeat(100), 'ﬃ ﬁle', '½ ⑳ ㎏', '\u0390\u1fd3', 'İİİ', 'a\u0301'.repeat(50), '𝐀𝐁𝐂']) {
      expect(foldForSearch(text).length, text).toBeLessThanOrEqual(text.length);
    }
  });
  it('folds a character as a query and as part of a text alike', () => {
    for (const text of ['ﬁle ﬃ', 'ΟΔΟΣ οδος', 'İSTANBUL\ufdfa', 'Ｗｉｄｅ café']) {
      for (const character of new Set(text)) expect(foldForSearch(text)).toContain(foldForSearch(character));
    }
  });
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
  it('also compares names as they look in capitals, without splitting case variants', () => {
    expect(lookalikeSkeletons('aIice')).toContain(nameSkeleton('alice'));
    expect(lookalikeSkeletons('ALICE')).toContain(nameSkeleton('alice'));
    expect(lookalikeSkeletons('bob')).toEqual([nameSkeleton('bob'), 'BOB']);
  });
  it('finds the look-alikes of issue 10 in either order, and keeps different names apart', () => {
    const pairs = [
      ['a\u0661ice', 'alice'],
      ['al\u03b9ce', 'alice'],
      ['adm\u03b9n', 'admin'],
      ['paypa\u0661', 'paypal'],
      ['ALlCE', 'alice'],
      ['wilIiam', 'william'],
      ['rnaria', 'maria'],
      ['b0b', 'bob'],
    ];
    for (const [spoof, name] of pairs) {
      expect(looksAlike(spoof!, name!), `${spoof} ${name}`).toBe(true);
      expect(looksAlike(name!, spoof!), `${name} ${spoof}`).toBe(true);
    }
    for (const [one, other] of [['bill', 'biii'], ['alice', 'alina'], ['ali', 'ayla'], ['Zeynep', 'Zeyneb']]) {
      expect(looksAlike(one!, other!), `${one} ${other}`).toBe(false);
    }
  });
  it('finds every Latin look-alike of the Unicode confusables data that a name may hold', () => {
    let checked = 0;
    for (const [confusable, latin] of Object.entries(confusablesData)) {
      if (!/^[a-zA-Z]$/.test(latin) || /^[\x00-\x7f]+$/.test(confusable)) continue;
      const name = `k${latin}${latin}to`;
      const spoof = `k${latin}${confusable}to`;
      if (!checkUserName(spoof).ok) continue;
      expect(looksAlike(spoof, name), `${spoof} (U+${confusable.codePointAt(0)!.toString(16)}) ${name}`).toBe(true);
      expect(looksAlike(name, spoof), `${name} ${spoof}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(300);
  });
});

describe('group names', () => {
  it('allows spaces and punctuation but not "~" or control characters', () => {
    expect(checkGroupName('  Project   Team (2026) ')).toEqual({ ok: true, name: 'Project Team (2026)' });
    expect(checkGroupName('a~b').ok).toBe(false);
    expect(checkGroupName('a\u202eb').ok).toBe(false);
  });
});

describe('room names', () => {
  it.each(['Team Room', 'team room', 'TEAM ROOM', 'TeamRoom', 'Te\u0430m Room', 'Team\u200BRoom', 'Team\u00A0Room', 'Team Rooｍ', 'Team_Room'])(
    '%j looks like "Team Room"',
    (name) => expect(roomNamesLookAlike('Team Room', name)).toBe(true),
  );

  it.each(['Team Rooms', 'Steam Room', 'Lab'])('%j does not', (name) => expect(roomNamesLookAlike('Team Room', name)).toBe(false));
});
