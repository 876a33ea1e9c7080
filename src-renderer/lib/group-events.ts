import type { TFunction } from 'i18next';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { en } from '../i18n/en.js';

type Kind = keyof typeof en.groupEvent;

function isKnown(kind: string): kind is Kind {
  return Object.hasOwn(en.groupEvent, kind);
}

/**
 * What a membership line (docs/PROTOCOL.md §6.4.1) says in the user's language; the server's
 * English text for a kind this version does not know.
 */
export function groupEventText(t: TFunction, message: ChatMessage): string {
  const event = message.groupEvent;
  if (!event || !isKnown(event.kind)) return message.text;
  return t(`groupEvent.${event.kind}`, { actor: message.from, user: event.user ?? '', name: event.name ?? '' });
}
