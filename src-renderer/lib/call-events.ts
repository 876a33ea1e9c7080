import type { TFunction } from 'i18next';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { sameName } from '../../src-shared/protocol/names.js';
import { formatDuration } from '../calls/format.js';

/**
 * What a call line (ChatMessage.callEvent, docs/PROTOCOL.md §21) says to you in the UI language: a missed
 * call is "No answer" to its caller (its sender) and "Missed call from …" to everyone else; the host's
 * English text for a kind this version does not know.
 */
export function callEventText(t: TFunction, message: ChatMessage, me: string | null): string {
  const event = message.callEvent;
  if (!event) return message.text;
  const mine = sameName(message.from, me);
  const kind = event.video ? 'video' : 'voice';
  switch (event.kind) {
    case 'missed':
      return mine ? t(`callEvent.noAnswer.${kind}`) : t(`callEvent.missed.${kind}`, { name: message.from });
    case 'declined':
      return mine ? t('callEvent.declinedByYou') : t('callEvent.declined', { name: message.from });
    case 'ended':
      return t(`callEvent.ended.${kind}`, { duration: formatDuration(event.durationMs ?? 0) });
    default:
      return message.text;
  }
}

/** Whether a message is a line about the conversation rather than something someone wrote. */
export function isEventLine(message: ChatMessage): boolean {
  return message.groupEvent !== undefined || message.callEvent !== undefined;
}
