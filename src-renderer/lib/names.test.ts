import { describe, expect, it } from 'vitest';
import { nameKey as sharedNameKey } from '../../src-shared/text.js';
import { nameKey, sameName } from './names.js';

describe('renderer name keys', () => {
  it('agree with the shared rule for Turkish and mixed-case names', () => {
    for (const name of ['Alice', 'İpek', 'IŞIK', 'ılgın', 'Zoë']) expect(nameKey(name)).toBe(sharedNameKey(name));
  });

  it('treat names differing only in case as the same account', () => {
    expect(sameName('Alice', 'alice')).toBe(true);
    expect(sameName('alice', 'bob')).toBe(false);
    expect(sameName(null, 'alice')).toBe(false);
  });
});
