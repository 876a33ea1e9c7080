/**
 * Whether a message may notify, as the settings say: do-not-disturb silences everything; a muted
 * conversation notifies only messages that mention you. Zod-free: the renderer (browser shell)
 * and the desktop shell decide alike.
 */
import type { ConversationKey } from './protocol/conversation.js';
import { sameName } from './protocol/names.js';

/** Until when each muted conversation is muted (ms since the epoch), or 'always'. */
export type Mutes = Record<ConversationKey, number | 'always'>;

export const MUTE_CHOICES = { hour: 3_600_000, eightHours: 8 * 3_600_000, week: 7 * 24 * 3_600_000, always: Infinity } as const;
export type MuteChoice = keyof typeof MUTE_CHOICES;

export function muteUntil(choice: MuteChoice, now: number): number | 'always' {
  return choice === 'always' ? 'always' : now + MUTE_CHOICES[choice];
}

export function isMuted(mutes: Mutes, conv: ConversationKey, now: number): boolean {
  const until = mutes[conv];
  return until === 'always' || (until !== undefined && until > now);
}

interface Quiet {
  doNotDisturb: boolean;
  mutes: Mutes;
}

/** Whether the settings keep this message from notifying (who sent it and where the user looks aside). */
export function silenced(settings: Quiet, message: { conv: ConversationKey; mentions?: string[] }, me: string | null, now: number): boolean {
  if (settings.doNotDisturb) return true;
  if (!isMuted(settings.mutes, message.conv, now)) return false;
  return !(message.mentions?.some((name) => sameName(name, me)) ?? false);
}
