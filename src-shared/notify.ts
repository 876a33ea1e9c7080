/**
 * Whether a message may notify, as the settings say: do-not-disturb silences everything; a muted
 * conversation notifies only messages that mention you, at most once a MUTED_MENTION_INTERVAL_MS.
 * Zod-free: the renderer (browser shell) and the desktop shell decide alike.
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

/** A muted conversation's mentions notify at most once in this long: someone mentioning you in a loop cannot keep it ringing. */
export const MUTED_MENTION_INTERVAL_MS = 60_000;

/** When each muted conversation last notified a mention (one per shell, beside its notifications). */
export class MutedMentions {
  private readonly notified = new Map<ConversationKey, number>();

  /** Whether a mention in the muted conversation may notify now; if so, counted as notified. */
  allow(conv: ConversationKey, now: number): boolean {
    const last = this.notified.get(conv);
    if (last !== undefined && now - last < MUTED_MENTION_INTERVAL_MS) return false;
    this.notified.set(conv, now);
    return true;
  }
}

/** Whether the settings keep this message from notifying (who sent it and where the user looks aside). */
export function silenced(
  settings: Quiet,
  message: { conv: ConversationKey; mentions?: string[] },
  me: string | null,
  now: number,
  mutedMentions: MutedMentions,
): boolean {
  if (settings.doNotDisturb) return true;
  if (!isMuted(settings.mutes, message.conv, now)) return false;
  const mentioned = message.mentions?.some((name) => sameName(name, me)) ?? false;
  return !mentioned || !mutedMentions.allow(message.conv, now);
}
