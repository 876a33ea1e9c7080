/**
 * What every handler works with (ServerContext) and what a handler is (Handlers): server.ts builds
 * the one, handlers/<feature>.ts implement the other, dispatch.ts runs them.
 */
import type { Request, RequestResults, RequestType, ServerLimits } from '../../src-shared/protocol/requests.js';
import type { PushFrame } from '../../src-shared/protocol/pushes.js';
import type { AsyncStore } from '../store/types.js';
import type { RoomAccess, RoomLimits } from './access.js';
import type { RoomClock } from './clock.js';
import type { Answered } from './errors.js';
import type { ScryptHold } from './password.js';
import type { ServerLog } from './log.js';
import type { SendCommit } from './outbound/commit.js';
import type { Roster } from './roster.js';
import type { KeyedQueue, SerialQueue } from './serial.js';
import type { LoggedInSession, Session } from './session.js';
import type { RoomThrottles } from './throttle.js';
import type { FileTransfers } from './transfer.js';
import type { FanOut } from './outbound/fan-out.js';
import type { VoiceCalls } from './voice-calls.js';

/** A result and the pushes that follow its response on the same connection (a muted user's login learns of the mute at once). */
export class FollowedBy<T> {
  constructor(
    readonly result: T,
    readonly pushes: PushFrame[],
  ) {}
}

/** Requests served before login; every other handler gets a logged-in session. */
type BeforeLogin = 'hello' | 'login';

export type Handlers = {
  [T in RequestType]: (
    session: T extends BeforeLogin ? Session : LoggedInSession,
    request: Request<T>,
  ) => RequestResults[T] | FollowedBy<RequestResults[T]> | Answered | Promise<RequestResults[T] | FollowedBy<RequestResults[T]> | Answered>;
};

/** What every handler works with. */
export interface ServerContext {
  store: AsyncStore;
  /** The room's clock (clock.ts): every time that is stored or shared counts from it. */
  clock: RoomClock;
  /**
   * Store writes that take message or event ids, each with its pushes, one at a time: a client
   * skips what is at or below the last id it saw, so pushes must leave in id order.
   */
  publish: SerialQueue;
  /** The sends' group commit (outbound/commit.ts): the messages handler hands it what to store and whom it concerns. */
  commit: SendCommit;
  /** Per user id: logins (from their last checks to the session's registration), password changes and bans. */
  accounts: KeyedQueue<number>;
  /** Per pair of users ("low high"): a chat request, answer or leave, from reading the relation to writing it. */
  relations: KeyedQueue<string>;
  log: ServerLog;
  access: RoomAccess;
  limits: RoomLimits;
  /** Who is online. */
  roster: Roster;
  /** Pushes, ends and mutes, to every node (outbound/fan-out.ts). */
  fanOut: FanOut;
  throttles: RoomThrottles;
  /** Every open connection. */
  sessions: ReadonlySet<Session>;
  passwordCost: number | undefined;
  /** Test-only (password.ts): holds each connection's password check before scrypt runs. */
  holdScrypt: ScryptHold | undefined;
  /** Whether the name is the host's own account (see ServerAdmin.protect). */
  isHostAccount: (name: string) => boolean;
  /** What hello announces. */
  roomName: string;
  announced: ServerLimits;
  /** How long after sending a message may be edited; null: no limit. */
  editWindowMs: number | null;
  /** The least time between two pushes about one user's presence (presence.ts) or devices (handlers/e2ee.ts). */
  presenceWindowMs: number;
  /** File transfers (docs/PROTOCOL.md §18); null on a host that takes no files. */
  files: FileTransfers | null;
  /** The room's calls (docs/PROTOCOL.md §21). */
  calls: VoiceCalls;
}
