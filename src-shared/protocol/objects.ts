/**
 * The domain objects of the protocol (docs/PROTOCOL.md §6) as zod schemas, and
 * the field schemas that requests and pushes share. Types are inferred from them.
 */
import { z } from 'zod';
import { CONVERSATION_KEY_PATTERN } from './conversation.js';
import { LIMITS } from './limits.js';

export const messageId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const groupId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** Server time, milliseconds since the Unix epoch. */
const time = z.number().int().min(0);
/** Names as a request may carry them: the server applies the real rules (docs/PROTOCOL.md §14). */
export const nameField = z.string().min(1).max(LIMITS.maxNameLength * 4);
export const groupName = z.string().min(1).max(LIMITS.maxGroupNameLength * 4);
export const pageLimit = z.number().int().min(1).max(LIMITS.maxPageSize);
export const password = z.string().min(LIMITS.minPasswordLength).max(LIMITS.maxPasswordLength);
export const passphrase = z.string().min(1).max(LIMITS.maxPassphraseLength);

export const conversationKey = z.string().max(64).regex(CONVERSATION_KEY_PATTERN, 'not a conversation key');

export const target = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('room') }),
  z.strictObject({ kind: z.literal('dm'), user: nameField }),
  z.strictObject({ kind: z.literal('group'), groupId }),
]);
export type Target = z.infer<typeof target>;

/**
 * A membership line of a group's history (docs/PROTOCOL.md §6.4.1): what the message's sender did.
 * Loose on purpose: a later server may add kinds, which a client shows by the message's text.
 */
export const groupEvent = z.object({
  /** created, invited, joined, removed, left, renamed. */
  kind: z.string(),
  /** Whom it was done to (invited, removed). */
  user: z.string().optional(),
  /** The group's name given (created, renamed). */
  name: z.string().optional(),
});
export type GroupEvent = z.infer<typeof groupEvent>;

/** A call's id (issue 39, docs/PROTOCOL.md §21): 128 random bits in base64url, chosen by the host. */
export const callId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a call id');

/**
 * A call's line in its conversation's history (docs/PROTOCOL.md §21.5), stored and delivered like a
 * message; its `text` says it in English for clients that do not read this field. Its sender (`from`):
 * missed, the caller (nobody answered: the caller's app shows "No answer", everyone else's "Missed
 * call"); declined, who declined (1:1 calls only); ended, the caller, with how long the call lasted.
 * Loose on purpose: a later host may add kinds, which a client shows by the message's text.
 */
export const callEvent = z.object({
  /** missed, declined, ended. */
  kind: z.string(),
  callId,
  video: z.boolean(),
  /** ended: from the second endpoint's joining to the last one's leaving. */
  durationMs: z.number().int().min(0).optional(),
});
export type CallEvent = z.infer<typeof callEvent>;

// files (issue 13, docs/PROTOCOL.md §18)
/** A file's id: 128 random bits in base64url, so nobody can guess one. */
export const fileId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a file id');
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'not a lower-case hex SHA-256');
/** A file name as a request may carry it: the server applies the real rules (§18). */
export const fileName = z.string().min(1).max(LIMITS.maxFileNameBytes * 4);
/** Pixel size an image's sender measured (the host never decodes images). */
const pixels = z.number().int().min(1).max(100_000);
/** A small preview the sender made: base64 of a PNG, JPEG or WebP image. */
const thumbnail = z
  .string()
  .min(1)
  .max(LIMITS.maxThumbnailLength)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64');

/** A stored file as the host describes it: `type` is the MIME type it detected from the content. */
export const fileInfo = z.object({
  id: fileId,
  name: z.string(),
  size: z.number().int().min(1),
  type: z.string(),
  sha256: sha256Hex,
});
export type FileInfo = z.infer<typeof fileInfo>;

/** A file carried by a message; images may have the sender's width, height and thumbnail. */
export const attachment = fileInfo.extend({
  width: pixels.optional(),
  height: pixels.optional(),
  thumbnail: thumbnail.optional(),
});
export type Attachment = z.infer<typeof attachment>;

/** What `send` says about each uploaded file it attaches. */
export const attachmentRef = z.strictObject({
  fileId,
  width: pixels.optional(),
  height: pixels.optional(),
  thumbnail: thumbnail.optional(),
});
export type AttachmentRef = z.infer<typeof attachmentRef>;

export const chatMessage = z.object({
  /** Server id: unique and increasing across the whole server. */
  id: messageId,
  conv: conversationKey,
  from: z.string(),
  /** The other party, for direct messages. */
  to: z.string().optional(),
  groupId: groupId.optional(),
  text: z.string(),
  ts: time,
  /** The sender's own id for this message, echoed so the sender can match it. */
  clientMsgId: z.string(),
  /** Group membership lines only: what happened; `text` says it in English for 1.0 clients. */
  groupEvent: groupEvent.optional(),
  /** Call lines only (issue 39): what became of the call; `text` says it in English. */
  callEvent: callEvent.optional(),
  // Protocol 1.1 (docs/PROTOCOL.md §17): absent fields mean "none".
  /** The message this one answers, as it is now: its sender and first line, or only that it was deleted. */
  replyTo: z
    .object({ id: messageId, from: z.string(), snippet: z.string(), deleted: z.literal(true).optional() })
    .optional(),
  /** When the text was last edited. */
  editedAt: time.optional(),
  /** Deleted for everyone: text is "", and replyTo, reactions and mentions are gone. */
  deleted: z.literal(true).optional(),
  /** Each emoji reacted with, ordered by its oldest reaction standing, with who reacted with it (in the order they did). */
  reactions: z.array(z.object({ emoji: z.string(), users: z.array(z.string()) })).optional(),
  /** The people this message mentions with @name (people who can read the conversation), as their names are spelt. */
  mentions: z.array(z.string()).optional(),
  // files (issue 13)
  /** Files sent with it (§18); the text is their caption and may then be empty. */
  attachments: z.array(attachment).optional(),
});
export type ChatMessage = z.infer<typeof chatMessage>;

export const userInfo = z.object({
  name: z.string(),
  online: z.boolean(),
  /** Last time the user was seen online (ms epoch); null if never. */
  lastSeen: time.nullable(),
});
export type UserInfo = z.infer<typeof userInfo>;

/**
 * accepted: both can message each other. incoming: they asked to chat with you (answer with chatAnswer).
 * outgoing: you asked. declined-by-me: you declined them. declined-by-them: they declined you.
 */
const contactState = z.enum(['accepted', 'incoming', 'outgoing', 'declined-by-me', 'declined-by-them']);
export type ContactState = z.infer<typeof contactState>;

export const contact = z.object({
  name: z.string(),
  state: contactState,
  conv: conversationKey,
  /** When the state last changed (ms epoch). */
  since: time,
});
export type Contact = z.infer<typeof contact>;

export const groupInfo = z.object({
  id: groupId,
  name: z.string(),
  owner: z.string(),
  members: z.array(z.string()),
  conv: conversationKey,
  /** Users invited who have not answered yet, sorted like members. */
  invited: z.array(z.string()),
});
export type GroupInfo = z.infer<typeof groupInfo>;

/** An invitation to a group you have not answered yet. */
export const groupInvitation = z.object({
  groupId,
  /** The group's name now. */
  name: z.string(),
  inviter: z.string(),
  since: time,
});
export type GroupInvitation = z.infer<typeof groupInvitation>;

const searchHit = z.object({ message: chatMessage });
export type SearchHit = z.infer<typeof searchHit>;

/** A page of messages, newest last; hasMore says whether asking again returns more. */
export const messagePage = z.object({ messages: z.array(chatMessage), hasMore: z.boolean() });
export type Page = z.infer<typeof messagePage>;
/** A page of one conversation's history; deliveredUpTo: your messages in it up to this id reached another reader. */
export const historyPage = messagePage.extend({ deliveredUpTo: messageId });
export type HistoryPage = z.infer<typeof historyPage>;

export const searchPage = z.object({ hits: z.array(searchHit), hasMore: z.boolean() });
export type SearchPage = z.infer<typeof searchPage>;

// ------------------------------------------------------------ protocol 1.1: conversation changes (docs/PROTOCOL.md §17)

/** Position in the server's conversation event log: unique and increasing across the server. */
export const eventId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// Built at run time: the v flag (needed for \p{RGI_Emoji}) is newer than the compile target.
const ONE_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');

/** One reaction: a single emoji (an RGI emoji sequence, skin tones and flags included). */
export const reactionEmoji = z.string().max(32).regex(ONE_EMOJI, 'a reaction is one emoji');

/**
 * Has V8 compile the costly patterns now. It compiles a regular expression at its first uses, to
 * bytecode and then to machine code; for the thousands of sequences of \p{RGI_Emoji} that took 15 to
 * 25 ms, inside the turn of the first reaction a server checked (docs/BENCHMARKS.md, "The first
 * reaction and the presence flush (turn25, continued)"). A server calls this before it listens.
 */
export function compileCostlyPatterns(): void {
  for (let use = 0; use < 2; use++) ONE_EMOJI.test('👍');
}

/**
 * One entry of the event log as a reader receives it. Message entries carry the message as it is
 * NOW (so applying an entry twice, or an older one after a newer, leaves the same state);
 * read entries carry the reader's cursor after the change.
 */
export const conversationEvent = z.discriminatedUnion('kind', [
  z.object({
    eventId,
    /** message: a new message; edit, delete, reaction: that change to the message. */
    kind: z.enum(['message', 'edit', 'delete', 'reaction']),
    message: chatMessage,
  }),
  z.object({
    eventId,
    kind: z.literal('read'),
    conv: conversationKey,
    user: z.string(),
    /** The user has read every message of conv up to this id. */
    upTo: messageId,
  }),
]);
export type ConversationEvent = z.infer<typeof conversationEvent>;

export const eventPage = z.object({ events: z.array(conversationEvent), hasMore: z.boolean() });
export type EventPage = z.infer<typeof eventPage>;

/** Your read position in one conversation, with what is unread after it (each counted up to MAX_UNREAD_COUNT). */
export const readState = z.object({
  conv: conversationKey,
  upTo: messageId,
  /** Messages after upTo sent by others. */
  unread: z.number().int().min(0),
  /** Of those, the ones that mention you. */
  mentions: z.number().int().min(0),
});
export type ReadState = z.infer<typeof readState>;

/** Another reader's read position (only where both of you send read receipts, never in the room). */
export const receipt = z.object({ user: z.string(), upTo: messageId });
export type Receipt = z.infer<typeof receipt>;
