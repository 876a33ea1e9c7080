/**
 * Who is online, and getting frames to them: presence on the first login and
 * the last disconnect, broadcast to the room, delivery to given users.
 */
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { type PushFrame } from '../../src-shared/protocol/pushes.js';
import { encodeFrame } from '../net/frame.js';
import type { AsyncStore, UserRow } from '../store/types.js';
import type { ServerLog } from './log.js';
import type { KeyedQueue } from './serial.js';
import type { Session } from './session.js';

/**
 * The least time between two presence pushes about one user: a user who comes and goes many
 * times within it costs the others at most one push per window, with the final state.
 */
export const PRESENCE_WINDOW_MS = 1000;

export class Roster {
  /** Logged-in sessions by user id. */
  private readonly online = new Map<number, Set<Session>>();
  /** Users the others were last told are online. */
  private readonly announcedOnline = new Set<number>();
  /** When each user's presence was last announced (Date.now()). */
  private readonly lastAnnounced = new Map<number, number>();
  /** Users whose presence changed and is not announced yet: their name and when it last changed. */
  private readonly presenceChanged = new Map<number, { name: string; ts: number }>();
  private presenceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: AsyncStore,
    private readonly log: ServerLog,
    private readonly windowMs: number,
    /** The server's per-user turns: a leave's cursor write and the next login's reads of it keep their order. */
    private readonly accounts: KeyedQueue<number>,
  ) {}

  isOnline(userId: number): boolean {
    return this.online.has(userId);
  }

  /**
   * Adds a session that just logged in; the user's first session announces them online to the others.
   * The session counts from the call; the promise settles once its last-seen time is stored.
   */
  async join(session: Session, user: UserRow): Promise<void> {
    let sessions = this.online.get(user.id);
    const first = !sessions;
    if (!sessions) {
      sessions = new Set();
      this.online.set(user.id, sessions);
    }
    sessions.add(session);
    const now = Date.now();
    if (first) this.notePresence(user, now);
    await this.store.setLastSeen(user.id, now);
  }

  /**
   * Removes a closed session at once; the user's last one announces them offline and saves how far
   * they got (in the user's turn, see `accounts`). The promise settles once that is stored.
   */
  async leave(session: Session, reason: WireError | null): Promise<void> {
    const user = session.user;
    if (!user) return;
    const sessions = this.online.get(user.id);
    if (!sessions) return;
    sessions.delete(session);
    if (sessions.size > 0) return;
    this.online.delete(user.id);
    const now = Date.now();
    // What sat in the socket of a connection that died may never have arrived:
    // then only what the client itself said it holds counts.
    // A kick is the server's own close with a bye after everything sent, like a shutdown: the
    // kicked user's next login must not replay all they had already seen.
    const clean =
      reason === null || reason.code === ErrorCode.LOGGED_OUT || reason.code === ErrorCode.SERVER_SHUTDOWN || reason.code === ErrorCode.KICKED;
    const reached = clean ? session.sentUpTo : session.syncedTo;
    this.notePresence(user, now);
    await this.accounts.run(user.id, async () => {
      try {
        await this.store.setLastSeen(user.id, now);
        if (reached > (await this.store.deliveredCursor(user.id))) await this.store.setDeliveredCursor(user.id, reached);
      } catch (error) {
        // A full disk must not take the host down with it; the user is offline all the same.
        this.log.error('last seen not stored', { user: user.name, error: String(error) });
      }
    });
  }

  /**
   * A login is announced at once, unless this user was announced less than a window ago: the others
   * then hear of them before anything they write. Everything else waits for the end of the window,
   * so a drop followed by a reconnect within it is never announced.
   */
  private notePresence(user: UserRow, ts: number): void {
    const pending = this.presenceChanged.has(user.id);
    if (!pending && this.online.has(user.id) && !this.announcedOnline.has(user.id) && this.sinceAnnounced(user.id, ts) >= this.windowMs) {
      this.announce(user.id, user.name, ts);
      return;
    }
    this.presenceChanged.set(user.id, { name: user.name, ts });
    this.presenceTimer ??= setTimeout(() => this.announcePresence(), this.windowMs).unref();
  }

  private sinceAnnounced(userId: number, now: number): number {
    return now - (this.lastAnnounced.get(userId) ?? -Infinity);
  }

  /** Announces each pending user whose window since their last announcement has passed; the rest wait for the next. */
  private announcePresence(): void {
    this.presenceTimer = null;
    const now = Date.now();
    for (const [userId, { name, ts }] of this.presenceChanged) {
      if (this.sinceAnnounced(userId, now) < this.windowMs) continue;
      this.presenceChanged.delete(userId);
      this.announce(userId, name, ts);
    }
    if (this.presenceChanged.size > 0) this.presenceTimer = setTimeout(() => this.announcePresence(), this.windowMs).unref();
  }

  /**
   * Tells everyone but the user's own sessions (which know from their login) the user's state, if it
   * is not what they were last told.
   */
  private announce(userId: number, name: string, ts: number): void {
    const online = this.online.has(userId);
    if (online === this.announcedOnline.has(userId)) return;
    if (online) this.announcedOnline.add(userId);
    else this.announcedOnline.delete(userId);
    this.lastAnnounced.set(userId, Date.now());
    this.broadcast({ type: 'presence', user: name, online, ts }, this.online.get(userId));
  }

  /**
   * Encodes once and writes the same bytes to every logged-in session (but `except`).
   * Presence goes lazily (see Connection.sendEncoded): a storm of logins costs each
   * peer one write per LAZY_FLUSH_MS, not one per login.
   */
  broadcast(frame: PushFrame, except?: Session | ReadonlySet<Session>): void {
    const lazy = frame.type === 'presence';
    const bytes = encodeFrame(frame);
    const messageId = frame.type === 'message' ? frame.message.id : 0;
    for (const sessions of this.online.values()) {
      for (const session of sessions) {
        if (session === except || (except instanceof Set && except.has(session))) continue;
        session.connection.sendEncoded(bytes, lazy);
        if (messageId > session.sentUpTo) session.sentUpTo = messageId;
      }
    }
  }

  /** Sends one frame to every session of the given users (but `except`). */
  deliver(userIds: Iterable<number>, frame: PushFrame, except?: Session): void {
    let bytes: Buffer | null = null;
    const messageId = frame.type === 'message' ? frame.message.id : 0;
    for (const userId of userIds) {
      const sessions = this.online.get(userId);
      if (!sessions) continue;
      bytes ??= encodeFrame(frame);
      for (const session of sessions) {
        if (session === except) continue;
        session.connection.sendEncoded(bytes);
        if (messageId > session.sentUpTo) session.sentUpTo = messageId;
      }
    }
  }

  /** Whether anyone among the users (everyone when null), other than `me`, is online. */
  anyoneElseOnline(userIds: Iterable<number> | null, me: number): boolean {
    if (userIds === null) return this.online.size > (this.online.has(me) ? 1 : 0);
    for (const id of userIds) if (id !== me && this.online.has(id)) return true;
    return false;
  }
}
