/** Protocol version, limits and defaults: plain values, safe for the renderer to import. */

export const PROTOCOL_MAJOR = 1;
const PROTOCOL_MINOR = 1;
export const PROTOCOL_VERSION = `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`;

/** What this server adds to protocol 1.0, announced by hello (docs/PROTOCOL.md §7.1). */
export const FEATURES: readonly string[] = [
  // groups: adding someone invites them (§7.20), membership lines in group history (§6.4.1)
  'group-invitations',
  'group-events',
];

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
} as const;

/** Who may create a new account: anyone, whoever knows the room passphrase, or anyone once the host approves. */
export const ACCESS_MODES = ['open', 'passphrase', 'approval'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

/** The port a host offers unless told otherwise. */
export const DEFAULT_PORT = 7171;
