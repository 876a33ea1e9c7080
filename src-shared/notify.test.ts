import { describe, expect, it } from 'vitest';
import { isMuted, muteUntil, silenced } from './notify.js';

const now = 1_700_000_000_000;

describe('muted conversations and do-not-disturb', () => {
  it('mutes for a while or until unmuted', () => {
    const mutes = { room: muteUntil('hour', now), 'group:1': muteUntil('always', now), 'group:2': muteUntil('week', now - 8 * 86_400_000) };
    expect(isMuted(mutes, 'room', now + 3_599_000)).toBe(true);
    expect(isMuted(mutes, 'room', now + 3_600_000)).toBe(false);
    expect(isMuted(mutes, 'group:1', now + 10 * 365 * 86_400_000)).toBe(true);
    expect(isMuted(mutes, 'group:2', now)).toBe(false);
    expect(isMuted(mutes, 'dm:1:2', now)).toBe(false);
  });

  it('a muted conversation notifies only a mention of you, whatever its case', () => {
    const settings = { doNotDisturb: false, mutes: { room: 'always' as const } };
    expect(silenced(settings, { conv: 'room' }, 'alice', now)).toBe(true);
    expect(silenced(settings, { conv: 'room', mentions: ['bob'] }, 'alice', now)).toBe(true);
    expect(silenced(settings, { conv: 'room', mentions: ['Alice'] }, 'alice', now)).toBe(false);
    expect(silenced(settings, { conv: 'group:1' }, 'alice', now)).toBe(false);
  });

  it('do-not-disturb silences everything, mentions included', () => {
    expect(silenced({ doNotDisturb: true, mutes: {} }, { conv: 'room', mentions: ['alice'] }, 'alice', now)).toBe(true);
  });
});
