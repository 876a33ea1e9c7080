import { describe, expect, it } from 'vitest';
import { avatarHue, initials } from './Avatar.js';

describe('avatars', () => {
  it('take the first letters of two words, or two of one word, upper-cased in any script', () => {
    expect(initials('alice')).toBe('AL');
    expect(initials('Core  team 2')).toBe('CT');
    expect(initials('ışık')).toBe('IŞ');
    expect(initials('🦊 fox')).toBe('🦊F');
  });

  it('give a name one colour whatever its case, and different names different colours', () => {
    expect(avatarHue('Alice')).toBe(avatarHue('alice'));
    expect(avatarHue('alice')).not.toBe(avatarHue('bob'));
    expect(avatarHue('bob')).toBeGreaterThanOrEqual(0);
    expect(avatarHue('bob')).toBeLessThan(360);
  });
});
