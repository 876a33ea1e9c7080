/**
 * Applying a changed message (an edit, delete or reaction event of protocol 1.1, docs/PROTOCOL.md §17)
 * to messages a client holds, as the server would now show them. No zod, no Node: the renderer imports this.
 */
import { replySnippet } from './protocol/conversation.js';
import { nameKey } from './protocol/names.js';
import type { ChatMessage } from './protocol/objects.js';

type Quote = NonNullable<ChatMessage['replyTo']>;

/** What a reply quotes of its original (message id, sender, text, whether deleted): the server's rule too. */
export function quote(id: number, from: string, text: string, deleted: boolean): Quote {
  return deleted ? { id, from, snippet: '', deleted: true } : { id, from, snippet: replySnippet(text) };
}

/** What a reply to `original` quotes of it now. */
export function quoteOf(original: ChatMessage): Quote {
  return quote(original.id, original.from, original.text, original.deleted === true);
}

/**
 * The messages with `changed` in place of the one with its id (if held), and every reply to it
 * quoting it as it is now. The same array when nothing in it changes.
 */
export function withChangedMessage(messages: readonly ChatMessage[], changed: ChatMessage): readonly ChatMessage[] {
  let touched = false;
  const next = messages.map((message) => {
    if (message.id === changed.id) {
      touched = true;
      return changed;
    }
    if (message.replyTo?.id === changed.id) {
      touched = true;
      return { ...message, replyTo: quoteOf(changed) };
    }
    return message;
  });
  return touched ? next : messages;
}

/** A message's reactions with `user`'s `emoji` added or taken back; an emoji nobody reacts with any more goes. */
export function reactionsWith(message: ChatMessage, emoji: string, user: string, on: boolean): { reactions?: { emoji: string; users: string[] }[] } {
  const others = (message.reactions ?? []).map((reaction) =>
    reaction.emoji === emoji ? { emoji, users: reaction.users.filter((name) => nameKey(name) !== nameKey(user)) } : reaction,
  );
  const withIt = on
    ? others.some((reaction) => reaction.emoji === emoji)
      ? others.map((reaction) => (reaction.emoji === emoji ? { emoji, users: [...reaction.users, user] } : reaction))
      : [...others, { emoji, users: [user] }]
    : others;
  const kept = withIt.filter((reaction) => reaction.users.length > 0);
  return kept.length > 0 ? { reactions: kept } : {};
}
