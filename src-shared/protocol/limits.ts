/** Protocol version, limits and defaults: plain values, safe for the renderer to import. */

export const PROTOCOL_MAJOR = 1;
/**
 * 1.1: hello announces `limits` and `features` (PROTOCOL.md §7.1). 1.2: a `presence` push lists
 * many users (§8.2); a client that says 1.0 or 1.1 in hello gets one push per user as before.
 */
const PROTOCOL_MINOR = 2;
/** The first minor version whose clients take `presence` as a list. */
export const PRESENCE_LIST_MINOR = 2;
export const PROTOCOL_VERSION = `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`;

/** Defaults a host may change; the hello response tells clients the values in force. */
export const LIMITS = {
  /** Largest frame payload in bytes (the 4-byte length prefix not counted). */
  maxFrameBytes: 1024 * 1024,
  /** Longest message text in characters (Unicode code points: an emoji counts 1), as every length of the protocol. */
  maxTextLength: 8000,
  maxNameLength: 32,
  maxGroupNameLength: 48,
  maxPasswordLength: 256,
  minPasswordLength: 1,
  maxPageSize: 200,
  defaultPageSize: 50,
  maxSearchLength: 200,
  maxClientMsgIdLength: 64,
  maxPassphraseLength: 256,
  // Conversation changes (protocol 1.1, docs/PROTOCOL.md §17).
  /** The server forwards at most one typing frame per user and conversation in this time; clients send no more often. */
  typingIntervalMs: 3000,
  /** Different emoji one user may have on one message at once. */
  maxReactionsPerUser: 20,
  /** Unread counts stop at this number (show "999+"). */
  maxUnreadCount: 999,
  /** Characters (code points) of the original's first line that a reply's quote carries. */
  replySnippetLength: 100,
  // files (issue 13, docs/PROTOCOL.md §18)
  /** Longest file name in UTF-8 bytes (NFC): what Linux, macOS and Windows all keep in one name. */
  maxFileNameBytes: 255,
  /** Attachments one message may carry. */
  maxAttachments: 10,
  /** Largest thumbnail the sending app may attach to an image, base64 characters (about 6 KB: every page of history carries them). */
  maxThumbnailLength: 8192,
  /** A thumbnail's largest width and height in pixels (its header says them; src-shared/thumbnails.ts). */
  maxThumbnailSide: 320,
} as const;

/** Optional capabilities a 1.1 server lists in hello's `features`. */
export const CONVERSATION_FEATURES = ['edit', 'delete', 'reply', 'reactions', 'read', 'typing'] as const;
/** Groups: adding someone invites them (§7.20), membership lines in group history (§6.4.1). */
export const GROUP_FEATURES = ['group-invitations', 'group-events'] as const;
/** Calls (issue 39): callStart and the rest of §21, and call lines in histories. */
export const CALL_FEATURE = 'calls';

/** The host's file limits unless it sets others; hello's `limits` announces the values in force. */
export const FILE_LIMITS = {
  /** Largest file in bytes. */
  maxFileBytes: 100 * 1024 * 1024,
  /** All files the host keeps, uploads under way included. */
  maxFileStorageBytes: 10 * 1024 * 1024 * 1024,
  /** Bytes of files one user may begin to upload per UTC day. */
  maxFileBytesPerDay: 2 * 1024 * 1024 * 1024,
  /** Transfer connections one user may have open at once, uploads and downloads together. */
  maxTransfersPerUser: 16,
  /** Uploads one user may have begun and not finished at once (two messages of 10 files). */
  maxUnfinishedUploadsPerUser: 20,
  /** Declared sizes of one user's unfinished uploads together: the room's store counts only the bytes that arrived. */
  maxUnfinishedBytesPerUser: 1024 * 1024 * 1024,
} as const;
export type FileLimits = { [K in keyof typeof FILE_LIMITS]: number };

/** Who may create a new account: anyone, whoever knows the room passphrase, or anyone once the host approves. */
export const ACCESS_MODES = ['open', 'passphrase', 'approval'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

/** The port a host offers unless told otherwise. */
export const DEFAULT_PORT = 7171;
