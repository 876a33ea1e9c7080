import { describe, expect, it } from 'vitest';
import { indexPeople, matchPeople } from './people.js';

const people = (...names: string[]) => indexPeople(names.map((name) => ({ name, online: false, lastSeen: null })));
const names = (result: ReturnType<typeof matchPeople>) => result.shown.map((user) => user.name);

describe('finding people by part of a name', () => {
  it('matches any part of a name in any case, names that begin with it first', () => {
    const index = people('Kayla', 'ayla', 'Berk', 'AYDIN');
    expect(names(matchPeople(index, 'ay', 8))).toEqual(['ayla', 'AYDIN', 'Kayla']);
    expect(names(matchPeople(index, 'AYL', 8))).toEqual(['ayla', 'Kayla']);
    expect(names(matchPeople(index, ' berk ', 8))).toEqual(['Berk']);
  });

  it('treats the Turkish dotted and dotless i as one letter, and ignores accents', () => {
    const index = people('İpek', 'ılgaz', 'Şule', 'IŞIK');
    expect(names(matchPeople(index, 'ipek', 8))).toEqual(['İpek']);
    expect(names(matchPeople(index, 'ILG', 8))).toEqual(['ılgaz']);
    expect(names(matchPeople(index, 'sule', 8))).toEqual(['Şule']);
    expect(names(matchPeople(index, 'ışı', 8))).toEqual(['IŞIK']);
  });

  it('offers at most the limit and counts the rest; nothing for a name no one has', () => {
    const index = people(...Array.from({ length: 3000 }, (_, i) => `user${i}`));
    const many = matchPeople(index, 'user', 8);
    expect(many.shown).toHaveLength(8);
    expect(many.more).toBe(2992);
    expect(matchPeople(index, 'zeynep', 8)).toEqual({ shown: [], more: 0 });
  });

  it('offers everyone, in the index order, for an empty query', () => {
    expect(names(matchPeople(people('b', 'a'), '', 8))).toEqual(['b', 'a']);
  });
});
