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

// files (issue 13, docs/PROTOCOL.md §18)
/** A file's id: 128 random bits in base64url, so nobody can guess one. */
export const fileId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'not a file id');
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'not a lower-case hex SHA-256');
/** A file name as a request may carry it: the server applies the real rules (§18). */
export const fileName = z.string().min(1).max(LIMITS.maxFileNameLength * 4);
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
});
export type GroupInfo = z.infer<typeof groupInfo>;

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
