import { describe, expect, it } from 'vitest';
import { nameKey, sameName } from './names.js';

describe('name keys', () => {
  it('fold case with Turkish dotted and dotless i as one letter', () => {
    expect(['Alice', 'İpek', 'IŞIK', 'ılgın', 'Zoë'].map(nameKey)).toEqual(['alice', 'ipek', 'işik', 'ilgin', 'zoë']);
  });

  it('treat names differing only in case as the same account', () => {
    expect(sameName('Alice', 'alice')).toBe(true);
    expect(sameName('alice', 'bob')).toBe(false);
    expect(sameName(null, 'alice')).toBe(false);
  });
});
