import { describe, expect, it } from 'vitest';
import { MUTED_MENTION_INTERVAL_MS, MutedMentions, isMuted, muteUntil, silenced } from './notify.js';

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
    const mentions = new MutedMentions();
    expect(silenced(settings, { conv: 'room' }, 'alice', now, mentions)).toBe(true);
    expect(silenced(settings, { conv: 'room', mentions: ['bob'] }, 'alice', now, mentions)).toBe(true);
    expect(silenced(settings, { conv: 'room', mentions: ['Alice'] }, 'alice', now, mentions)).toBe(false);
    expect(silenced(settings, { conv: 'group:1' }, 'alice', now, mentions)).toBe(false);
  });

  it('a muted conversation’s mentions notify once a minute at most, each conversation on its own (issue 33, item 8)', () => {
    const settings = { doNotDisturb: false, mutes: { room: 'always' as const, 'group:1': 'always' as const } };
    const mentions = new MutedMentions();
    const mention = (conv: 'room' | 'group:1', at: number) => silenced(settings, { conv, mentions: ['alice'] }, 'alice', at, mentions);
    expect(mention('room', now)).toBe(false);
    for (let at = now + 100; at < now + MUTED_MENTION_INTERVAL_MS; at += 5_000) expect(mention('room', at)).toBe(true);
    expect(mention('group:1', now + 100)).toBe(false);
    expect(mention('room', now + MUTED_MENTION_INTERVAL_MS)).toBe(false);
  });

  it('do-not-disturb silences everything, mentions included', () => {
    expect(silenced({ doNotDisturb: true, mutes: {} }, { conv: 'room', mentions: ['alice'] }, 'alice', now, new MutedMentions())).toBe(true);
  });
});
