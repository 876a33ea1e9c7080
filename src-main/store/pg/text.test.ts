import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../testing/prng.js';
import { readText, storedText } from './text.js';

/** Strings over an alphabet rich in the escaped characters and in what follows them in an escape. */
function randomStrings(seed: number, alphabet: string[], count: number, maxLength: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: Math.floor(random() * (maxLength + 1)) }, () => alphabet[Math.floor(random() * alphabet.length)]!).join(''),
  );
}

describe('text as PostgreSQL keeps it', () => {
  it('holds no U+0000 and reads back exactly', () => {
    for (const text of randomStrings(1, ['\0', '\uFFFE', '\uFFFF', 'a', '0', 'ş'], 2000, 12)) {
      expect(storedText(text)).not.toContain('\0');
      expect(readText(storedText(text))).toBe(text);
    }
  });

  it('finds a needle without U+FFFE or U+FFFF in stored text exactly where it is in the text', () => {
    const haystacks = randomStrings(2, ['\0', '\uFFFE', '\uFFFF', 'a', '0'], 1500, 8);
    const needles = randomStrings(3, ['\0', 'a', '0'], 60, 3).filter((needle) => needle !== '');
    for (const haystack of haystacks) {
      for (const needle of needles) {
        expect(storedText(haystack).includes(storedText(needle)), JSON.stringify([haystack, needle])).toBe(haystack.includes(needle));
      }
    }
  });
});
