/**
 * The App API: the only thing the renderer talks to. The Electron preload exposes
 * it over IPC, the browser shell over a local WebSocket; both carry exactly these
 * calls and events, so the renderer cannot tell which shell it runs in. The calls
 * themselves are one table, appCalls in api-schema.ts, and what they return is in
 * api-results.ts; this module only names the types (and passes those on), so the
 * renderer can import it without loading zod.
 */
import type { z } from 'zod';
import type { AppCallName, CallArgs, appCalls, hostAdminActionSchema, hostRequestSchema, joinRequestSchema, outgoingFile, settingsSchema } from './api-schema.js';
import type { AppError, HostBan, HostLogEntry, HostUser, NearbyRoom, PendingUser, SessionView } from './api-results.js';
import type { ConversationKey } from './protocol/conversation.js';
import type { ChatMessage, Target } from './protocol/objects.js';
import type { PushFrames } from './protocol/pushes.js';
export type { AppCallName, CallArgs };
export {
  AppErrorCode,
  type AppError,
  type ConnectionSecurity,
  type ConnectionStatus,
  type HostAdminResult,
  type HostBan,
  type HostInfo,
  type HostLogEntry,
  type HostSilentAccounts,
  type HostUser,
  type NearbyRoom,
  type PendingUser,
  type RoomLimits,
  type SessionView,
  type TrustedHost,
  type UnsentMessage,
} from './api-results.js';
export type { ConversationEvent, HistoryPage, ReadState, Receipt } from './protocol/objects.js';
export type { CallInfo, CallParticipant, CallSignal } from './protocol/calls.js';

export type Settings = z.infer<typeof settingsSchema>;
export type Language = Exclude<Settings['language'], 'system'>;

export type HostRequest = z.infer<typeof hostRequestSchema>;
export type JoinRequest = z.infer<typeof joinRequestSchema>;

export type HostAdminAction = z.infer<typeof hostAdminActionSchema>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export type OutboxStatus = 'queued' | 'sent' | 'delivered' | 'failed';

/** Pushes from the room's server that the app passes on to its windows as they are (core/link.ts is held to this list). */
export type ForwardedPushType =
  | 'message'
  | 'presence'
  | 'chatRequest'
  | 'chatAnswer'
  | 'chatLeft'
  | 'group'
  | 'groupRemoved'
  | 'delivered'
  | 'event'
  | 'typing'
  | 'groupInvitations'
  // Calls (issue 39): every change of a call of the user's conversations, and signals for this app's endpoint.
  | 'call'
  | 'callSignal';
type ForwardedPush = PushFrames[ForwardedPushType];

export type AppEvent =
  | ForwardedPush
  | { type: 'session'; session: SessionView }
  /**
   * Your own message's progress: queued (not yet stored; again with `error` when the host failed it and
   * it goes again), sent (stored by the host), delivered (reached another device), failed (refused).
   */
  | {
      type: 'outbox';
      clientMsgId: string;
      status: OutboxStatus;
      target: Target;
      text: string;
      /** The id of the message this one answers. */
      replyTo?: number;
      ts: number;
      message?: ChatMessage;
      error?: AppError;
      /**
       * Queued and gone out at least once (it may be stored already, its answer lost with its connection):
       * it goes again under the same client id, and it can no longer be cancelled (MAYBE_SENT).
       */
      tried?: true;
    }
  | { type: 'hostLog'; entry: HostLogEntry }
  | { type: 'hostUsers'; users: HostUser[] }
  | { type: 'hostPending'; users: PendingUser[] }
  | { type: 'hostBans'; bans: HostBan[] }
  /** Settings changed (in this or another window). */
  | { type: 'settings'; settings: Settings }
  /** The rooms announced on the network changed (after a nearbyRooms call started watching). */
  | { type: 'nearbyRooms'; rooms: NearbyRoom[] }
  /** The shell asks the main window to open this conversation (its notification was clicked). */
  | { type: 'showConversation'; conv: ConversationKey }
  /**
   * End-to-end encryption (issue 35): users of the conversation this device cannot encrypt to (their app has no
   * device the host can hand out), or whose devices changed, said in the conversation.
   */
  | { type: 'e2eeNotice'; conv: ConversationKey; kind: 'unreachable' | 'devicesChanged'; users: string[]; ts: number }
  /**
   * A call in an end-to-end encrypted conversation (PROTOCOL §21.7): an offer or answer of `user`'s endpoint
   * whose DTLS fingerprints no `call` message of theirs vouched for (`missing`), or that names others than
   * theirs did (`mismatch`, the host changed them); it and the endpoint's later signals were not passed on.
   */
  | { type: 'callUnverified'; callId: string; endpoint: string; user: string; reason: 'missing' | 'mismatch' }
  // files (issue 13)
  | TransferEvent;

/** A file to send: a path (desktop, terminal) or its bytes in base64 (browser shell), with an image's measurements. */
export type OutgoingFile = z.output<typeof outgoingFile>;

/** A file transfer's progress and outcome; `transfer` is the id sendFiles or downloadFile gave it. */
export interface TransferEvent {
  type: 'transfer';
  transfer: string;
  direction: 'upload' | 'download';
  name: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  progress?: { bytes: number; total: number; bytesPerSecond: number; secondsLeft: number | null };
  /** With status running: the link to the host dropped (or the host is busy) and the transfer waits to go on. */
  waiting?: true;
  /** An upload's conversation. */
  target?: Target;
  /** A download's file, and an upload's once it is done: the file's id on the host. */
  fileId?: string;
  /** With a download done: where it was saved. */
  path?: string;
  error?: AppError;
}

type AppCalls = typeof appCalls;
type CallValue<K extends AppCallName> = AppCalls[K]['returns'] extends { readonly value?: infer T } ? T : never;

export type AppApi = {
  [K in keyof AppCalls]: (...args: CallArgs<K>) => Promise<Result<CallValue<K>>>;
} & {
  /** Subscribes to every event; returns the unsubscribe function. */
  onEvent(listener: (event: AppEvent) => void): () => void;
};

/**
 * What a shell hands the renderer: one function that carries any call by name
 * (the core validates name and arguments), and the event subscription. The renderer
 * builds the AppApi over it, whether it came from the Electron preload or the bridge.
 */
export interface AppTransport {
  call(call: string, args: unknown[]): Promise<Result<unknown>>;
  onEvent(listener: (event: AppEvent) => void): () => void;
  /** Desktop only: where a File the page was given lives on disk ('' when nowhere, e.g. pasted). */
  pathForFile?(file: File): string;
}
