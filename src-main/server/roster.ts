/**
 * Who is online: this node's logged-in sessions by user, added at login and dropped at close with the
 * user's last-seen time stored, and the writes to them. Whether a user is online on another node is
 * the fan-out's to say (outbound/fan-out.ts), and what changes is announced by presence.ts.
 */
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import type { AsyncStore, LastSeen, UserRow } from '../store/types.js';
import type { RoomClock } from './clock.js';
import type { ServerLog } from './log.js';
import type { FanOut, LocalNode } from './outbound/fan-out.js';
import { Presence } from './presence.js';
import type { KeyedQueue } from './serial.js';
import { markSent, type Session } from './session.js';

export interface RosterOptions {
  /** The room's clock: presence and last-seen times are shared and stored (clock.ts). */
  clock: RoomClock;
  /** The least time between two presence pushes about one user (presence.ts). */
  presenceWindowMs: number;
  /** The server's per-user turns: a leave's cursor write and the next login's reads of it keep their order. */
  accounts: KeyedQueue<number>;
  /** How this node's word reaches the room, given how the Roster writes to its sessions (server.ts picks it). */
  fanOut: (here: LocalNode) => FanOut;
}

export class Roster {
  /** Logged-in sessions of this node by user id. */
  private readonly here = new Map<number, Set<Session>>();
  /**
   * How pushes, ends and mutes reach every node, and who is online on the others. Built here, as it
   * writes to these sessions and they ask it who is online elsewhere; closed with the Roster.
   */
  readonly fanOut: FanOut;
  private readonly presence: Presence;
  /** Last-seen times (and cursors) of this turn's logins and leaves, stored together (see saveLastSeen). */
  private seen: LastSeen[] = [];
  private seenSaved: Promise<void> | null = null;
  /** Leaves whose writes are under way: close waits for them, the store closing after it. */
  private readonly leaving = new Set<Promise<void>>();
  /** Logins on this node so far (the admin port's metrics). */
  logins = 0;
  /** Message pushes written to this node's sessions so far (the admin port's metrics). */
  deliveries = 0;

  constructor(
    private readonly store: AsyncStore,
    private readonly log: ServerLog,
    private readonly options: RosterOptions,
  ) {
    this.presence = new Presence({ isOnline: (userId) => this.isOnline(userId), here: this.here }, options.presenceWindowMs);
    this.fanOut = options.fanOut({
      toAll: (bytes, messageId, except) => this.writeToAll(bytes, messageId, except),
      to: (userIds, encode, messageId, except) => this.writeTo(userIds, encode, messageId, except),
      users: () => this.users(),
      elsewhereChanged: (userId, name, ts) => {
        // Online here, the user stays online whatever the other nodes say.
        if (!this.here.has(userId)) this.presence.note(userId, name, ts);
      },
    });
  }

  /** Whether the user is logged in on this node or any other. */
  isOnline(userId: number): boolean {
    return this.here.has(userId) || this.fanOut.onlineElsewhere(userId);
  }

  /**
   * Adds a session that just logged in; the user's first session announces them online to the others.
   * The session counts from the call; the promise settles once its last-seen time is stored.
   */
  async join(session: Session, user: UserRow): Promise<void> {
    let sessions = this.here.get(user.id);
    const wasOnline = this.isOnline(user.id);
    const now = this.options.clock.now();
    if (!sessions) {
      sessions = new Set();
      this.here.set(user.id, sessions);
      this.fanOut.loggedIn(user.id, user.name, true, now);
    }
    sessions.add(session);
    this.logins += 1;
    this.presence.loggedIn(session);
    if (!wasOnline) this.presence.note(user.id, user.name, now);
    await this.saveLastSeen({ userId: user.id, ts: now, deliveredUpTo: 0 });
  }

  /**
   * Removes a closed session at once; the user's last one announces them offline and saves how far
   * they got (in the user's turn, see `accounts`). The promise settles once that is stored.
   */
  async leave(session: Session, reason: WireError | null): Promise<void> {
    const user = session.user;
    if (!user) return;
    const sessions = this.here.get(user.id);
    if (!sessions) return;
    sessions.delete(session);
    if (sessions.size > 0) return;
    this.here.delete(user.id);
    const now = this.options.clock.now();
    // What sat in the socket of a connection that died may never have arrived:
    // then only what the client itself said it holds counts.
    // A kick is the server's own close with a bye after everything sent, like a shutdown: the
    // kicked user's next login must not replay all they had already seen.
    const clean =
      reason === null ||
      reason.code === ErrorCode.LOGGED_OUT ||
      reason.code === ErrorCode.SERVER_SHUTDOWN ||
      reason.code === ErrorCode.SERVER_DRAINING ||
      reason.code === ErrorCode.KICKED;
    const reached = clean ? session.sentUpTo : session.syncedTo;
    this.fanOut.loggedIn(user.id, user.name, false, now);
    if (!this.fanOut.onlineElsewhere(user.id)) this.presence.note(user.id, user.name, now);
    const written = this.options.accounts.run(user.id, async () => {
      try {
        await this.saveLastSeen({ userId: user.id, ts: now, deliveredUpTo: reached });
      } catch (error) {
        // A full disk must not take the host down with it; the user is offline all the same.
        this.log.error('last seen not stored', { user: user.name, error: String(error) });
      }
    });
    this.leaving.add(written);
    await written;
    this.leaving.delete(written);
  }

  /**
   * Stores the user's last-seen time (and delivered cursor) with every other one of this turn in one
   * store call: a stop that closes 1,000 sessions, or their 1,000 logins after it, costs a few
   * transactions, not a commit (or three statements) each.
   */
  private saveLastSeen(entry: LastSeen): Promise<void> {
    this.seen.push(entry);
    this.seenSaved ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const seen = this.seen;
      this.seen = [];
      this.seenSaved = null;
      return this.store.setLastSeen(seen);
    });
    return this.seenSaved;
  }

  /** Whether anyone among the users (everyone when null), other than `me`, is online on any node. */
  anyoneElseOnline(userIds: Iterable<number> | null, me: number): boolean {
    if (userIds === null) return this.here.size > (this.here.has(me) ? 1 : 0) || this.fanOut.anyoneElsewhere(me);
    for (const id of userIds) if (id !== me && this.isOnline(id)) return true;
    return false;
  }

  /** Writes to every logged-in session of this node (but `except`), after the presence announced so far. */
  private writeToAll(bytes: Buffer, messageId: number, except?: Session): void {
    this.presence.flush();
    for (const sessions of this.here.values()) {
      for (const session of sessions) {
        if (session === except) continue;
        session.connection.sendEncoded(bytes);
        if (messageId > 0) this.deliveries += 1;
        markSent(session, messageId);
      }
    }
  }

  /** Writes to this node's sessions of the users (but `except`), encoding only if one is here. */
  private writeTo(userIds: Iterable<number>, encode: () => Buffer, messageId: number, except?: Session): void {
    this.presence.flush();
    let bytes: Buffer | null = null;
    for (const userId of userIds) {
      const sessions = this.here.get(userId);
      if (!sessions) continue;
      bytes ??= encode();
      for (const session of sessions) {
        if (session === except) continue;
        session.connection.sendEncoded(bytes);
        if (messageId > 0) this.deliveries += 1;
        markSent(session, messageId);
      }
    }
  }

  /** This node's logged-in users with their names. */
  private users(): [id: number, name: string][] {
    const users: [number, string][] = [];
    for (const [userId, sessions] of this.here) {
      const user = sessions.values().next().value?.user;
      if (user) users.push([userId, user.name]);
    }
    return users;
  }

  /** Stops announcing and telling the others about this node, once the leaves under way are stored. */
  async close(): Promise<void> {
    await Promise.all(this.leaving);
    this.presence.close();
    await this.fanOut.close();
  }
}
