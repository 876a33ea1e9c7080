/**
 * How the terminal client words what it receives: one line per message, change or group, and
 * `printable`, which every line a peer or host could have written passes before it is printed.
 */
import type { ChatMessage, ConversationEvent, GroupInfo } from '../../src-shared/protocol/objects.js';
import { nameKey } from '../../src-shared/protocol/names.js';

/**
 * Control characters would let a message, a name or a host's room name move the cursor, set the
 * window title, write the clipboard or hide output. Everything a peer or host sent goes through this.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(/\r?\n|\r|\t/g, (c) => (c === '\t' ? ' ' : ' ⏎ ')).replace(CONTROL, '\ufffd');
}

export function formatTime(ts: number): string {
  const d = new Date(ts);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "#12 [time] where | sender: text", with (edited), a reply's quote, or "message deleted". */
export function formatMessageLine(message: ChatMessage, where: string, me?: string): string {
  // A membership line's text says who did it; a call line too, but a missed call of one's own is "no answer".
  if (message.groupEvent) return `#${message.id} [${formatTime(message.ts)}] ${where} * ${message.text}`;
  if (message.callEvent) {
    const own = me !== undefined && message.callEvent.kind === 'missed' && nameKey(message.from) === nameKey(me);
    const text = own ? `No answer to your ${message.callEvent.video ? 'video' : 'voice'} call` : message.text;
    return `#${message.id} [${formatTime(message.ts)}] ${where} * ${text}`;
  }
  const reply = message.replyTo
    ? ` (reply to #${message.replyTo.id} ${message.replyTo.from}: ${message.replyTo.deleted ? 'message deleted' : `"${message.replyTo.snippet}"`})`
    : '';
  const edited = message.editedAt !== undefined && !message.deleted ? ' (edited)' : '';
  const text = message.deleted ? '(message deleted)' : message.text;
  return `#${message.id} [${formatTime(message.ts)}] ${where} | ${message.from}${edited}${reply}: ${text}`;
}

/** "👍 alice, bob; 🎉 cem", or "none". */
export function formatReactions(message: ChatMessage): string {
  const reactions = message.reactions ?? [];
  return reactions.length === 0 ? 'none' : reactions.map((reaction) => `${reaction.emoji} ${reaction.users.join(', ')}`).join('; ');
}

/**
 * One line for a change that arrived (protocol 1.1 event), or null for one not worth a line
 * (your own read position). `where` names the conversation of a key.
 */
export function formatEvent(event: ConversationEvent, me: string, where: (message: ChatMessage) => string): string | null {
  switch (event.kind) {
    case 'message':
    case 'edit':
      return formatMessageLine(event.message, where(event.message));
    case 'delete':
      return `*** #${event.message.id} from ${event.message.from} was deleted`;
    case 'reaction':
      return `*** #${event.message.id} reactions: ${formatReactions(event.message)}`;
    case 'read':
      if (nameKey(event.user) === nameKey(me)) return null;
      return `*** ${event.user} read up to #${event.upTo}${event.conv === 'room' ? ' in the room' : ''}`;
  }
}

/** "group team (owner ana): ana, bob; invited: cem". */
export function describeGroup(group: GroupInfo): string {
  const invited = group.invited.length > 0 ? `; invited: ${group.invited.join(', ')}` : '';
  return `group ${group.name} (owner ${group.owner}): ${group.members.join(', ')}${invited}`;
}
