/**
 * Native notifications of the desktop app: which messages notify, what they say, and
 * which window a click brings up.
 */
import type { Language } from '../../src-shared/api.js';
import { type MutedMentions, type Mutes, silenced } from '../../src-shared/notify.js';
import type { ConversationKey } from '../../src-shared/protocol/conversation.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import type { ChatMessage } from '../../src-shared/protocol/objects.js';
// The UI's own sentences, so a notification reads as the window around it does.
import { en } from '../../src-renderer/i18n/en.js';
import { tr } from '../../src-renderer/i18n/tr.js';

const TRANSLATIONS = { en, tr } as const;

export interface NotifyContext {
  /** The logged-in user; her own messages (from any device) never notify. */
  me: string | null;
  /** The notifications setting. */
  enabled: boolean;
  /** Whether one of the app's windows has the focus: the user is looking at the app already. */
  inView: boolean;
  /** Do-not-disturb and the muted conversations (where only mentions of the user notify). */
  doNotDisturb: boolean;
  mutes: Mutes;
  now: number;
  /** When the muted conversations last notified a mention (the shell keeps it). */
  mutedMentions: MutedMentions;
}

export function shouldNotify(message: ChatMessage, context: NotifyContext): boolean {
  if (!context.enabled || context.inView || context.me === null) return false;
  return nameKey(message.from) !== nameKey(context.me) && !silenced(context, message, context.me, context.now, context.mutedMentions);
}

/**
 * The notification's text: who and where (the conversation's name, for the room and groups;
 * a direct message is where the sender is), and the start of the message.
 */
export function notificationText(message: ChatMessage, conversationName: string | undefined, language: Language): { title: string; body: string } {
  const direct = message.conv.startsWith('dm:');
  const title =
    direct || conversationName === undefined
      ? message.from
      : TRANSLATIONS[language].notification.title.replace('{{sender}}', message.from).replace('{{conversation}}', conversationName);
  return { title, body: message.text.length > 200 ? `${message.text.slice(0, 199)}…` : message.text };
}

/** The room's name as the sidebar shows it when the server gave none. */
export function roomLabel(language: Language): string {
  return TRANSLATIONS[language].nav.room;
}

/** A click opens the conversation where the user reads it: its own window if it has one, else the main window. */
export function clickTarget(conv: ConversationKey, openChatWindows: ReadonlySet<ConversationKey>): { window: 'chat' | 'main'; conv: ConversationKey } {
  return { window: openChatWindows.has(conv) ? 'chat' : 'main', conv };
}
