/** The chat list's line under a conversation's name: its newest message, shortened to what it is. */
import type { TFunction } from 'i18next';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
import { sameName } from '../../src-shared/protocol/names.js';
import type { ConversationEntry } from '../store/selectors.js';
import { callEventText } from './call-events.js';
import { groupEventText } from './group-events.js';

/** What a message says in a line: its text, or its file ("📎 plan.pdf") when it has none. */
function gist(t: TFunction, message: ChatMessage): string {
  const files = message.attachments ?? [];
  if (message.text.trim() !== '' || files.length === 0) return message.text;
  return files.length === 1 ? `📎 ${files[0]!.name}` : t('preview.files', { name: files[0]!.name, count: files.length - 1 });
}

export function conversationPreview(t: TFunction, entry: Pick<ConversationEntry, 'kind' | 'latest' | 'members'>, me: string | null): string {
  const { latest } = entry;
  if (latest === undefined) return entry.kind === 'group' ? t('layout.members', { count: entry.members ?? 0 }) : '';
  // Whose it was matters less than that it is gone.
  if (latest.deleted) return t('delete.deleted');
  if (latest.groupEvent) return groupEventText(t, latest);
  if (latest.callEvent) return callEventText(t, latest, me);
  const text = gist(t, latest);
  if (sameName(latest.from, me)) return t('layout.you', { text });
  return entry.kind === 'dm' ? text : `${latest.from}: ${text}`;
}
