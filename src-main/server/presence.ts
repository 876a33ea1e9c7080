/**
 * Telling this node's sessions who comes and goes (docs/PROTOCOL.md §8.2): the windows that keep a user
 * who reconnects from costing the others a push each time, and the batching that makes a window's
 * logins one `presence` frame per peer. Who is online is the Roster's to say (roster.ts); this only
 * announces changes of it.
 */
import { PRESENCE_LIST_MINOR } from '../../src-shared/protocol/limits.js';
import type { PresenceBefore12 } from '../../src-shared/protocol/pushes.js';
import { encodeFrame } from '../net/frame.js';
import type { WriteWhen } from '../net/scheduler.js';
import { type Announced, PresenceList } from './presence-list.js';
import type { Session } from './session.js';

/**
 * The least time between two presence pushes about one user: a user who comes and goes many
 * times within it costs the others at most one push per window, with the final state.
 */
export const PRESENCE_WINDOW_MS = 1000;

/**
 * Up to this many users online on the node, presence goes out at once after a quiet window and is
 * never held for company. Gathering a window's logins and holding them for other frames to the same
 * peer saves work only in a crowd: a 1,000-client restart took 0.1 to 0.2 s longer without it
 * (docs/BENCHMARKS.md, left29).
 */
export const PRESENCE_PROMPT_USERS = 100;

/** Who is online, as presence reads it (the Roster). */
export interface Online {
  /** Whether the user is logged in on this node or any other. */
  isOnline(userId: number): boolean;
  /** This node's logged-in sessions by user id. */
  readonly here: ReadonlyMap<number, ReadonlySet<Session>>;
}

export class Presence {
  /** Users the others were last told are online. */
  private readonly announcedOnline = new Set<number>();
  /** When each user's presence was last announced (Date.now()). */
  private readonly lastAnnounced = new Map<number, number>();
  /** Users whose presence changed and is not announced yet: their name and when it last changed. */
  private readonly changed = new Map<number, { name: string; ts: number }>();
  private changedTimer: NodeJS.Timeout | null = null;
  /** Presence announced and not yet handed to the sessions: one frame for all of it (see flush). */
  private batch: Announced[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** When presence was last handed to a session (Date.now()). */
  private lastWrite = -Infinity;
  /** Announcements made so far; each session's count at its login (it hears only of later ones). */
  private announcements = 0;
  private readonly announcementsAtLogin = new WeakMap<Session, number>();

  constructor(
    private readonly online: Online,
    private readonly windowMs: number,
  ) {}

  /** A session logged in: its login told it who is online, so it hears only of what is announced after. */
  loggedIn(session: Session): void {
    this.announcementsAtLogin.set(session, this.announcements);
  }

  /**
   * The user came online or went offline (on any node). A login is announced at once, unless this
   * user was announced less than a window ago: the others then hear of them before anything they
   * write. Everything else waits for the end of the window, so a drop followed by a reconnect within
   * it is never announced.
   */
  note(userId: number, name: string, ts: number): void {
    const pending = this.changed.has(userId);
    // The windows are this node's own: its local clock, not the room's `ts`.
    if (!pending && this.online.isOnline(userId) && !this.announcedOnline.has(userId) && this.sinceAnnounced(userId, Date.now()) >= this.windowMs) {
      this.announce(userId, name, ts);
      return;
    }
    this.changed.set(userId, { name, ts });
    this.changedTimer ??= setTimeout(() => this.announceChanged(), this.windowMs).unref();
  }

  private sinceAnnounced(userId: number, now: number): number {
    return now - (this.lastAnnounced.get(userId) ?? -Infinity);
  }

  /** Announces each pending user whose window since their last announcement has passed; the rest wait for the next. */
  private announceChanged(): void {
    this.changedTimer = null;
    const now = Date.now();
    for (const [userId, { name, ts }] of this.changed) {
      if (this.sinceAnnounced(userId, now) < this.windowMs) continue;
      this.changed.delete(userId);
      this.announce(userId, name, ts);
    }
    if (this.changed.size > 0) this.changedTimer = setTimeout(() => this.announceChanged(), this.windowMs).unref();
  }

  /**
   * Tells this node's sessions but the user's own (which know from their login) the user's state, if
   * it is not what they were last told. Every node does so for its own sessions: presence is not a push
   * that crosses the bus, each node follows who is online where and applies the windows itself.
   */
  private announce(userId: number, name: string, ts: number): void {
    const online = this.online.isOnline(userId);
    if (online === this.announcedOnline.has(userId)) return;
    if (online) this.announcedOnline.add(userId);
    else this.announcedOnline.delete(userId);
    this.lastAnnounced.set(userId, Date.now());
    this.batch.push({ userId, number: ++this.announcements, state: { user: name, online, ts } });
    if (this.flushTimer) return;
    // A small room hears of a login at once after a window without presence, else a window after the
    // last push; a crowd a window after the first announcement, which gathers its logins into one push.
    const waitMs = this.crowded() ? this.windowMs : Math.max(0, this.lastWrite + this.windowMs - Date.now());
    this.flushTimer = setTimeout(() => this.flush(), waitMs).unref();
  }

  private crowded(): boolean {
    return this.online.here.size > PRESENCE_PROMPT_USERS;
  }

  /**
   * Hands what was announced since the last call to every session of this node as one `presence`
   * frame, encoded once and shared (by a lazy pass, see Connection.sendEncoded): a window's logins
   * cost each peer one frame, however many came back at once. Its timer runs it as `announce`
   * says; the Roster also runs it before any other write, so a user is announced before anything
   * they write. In a crowd, what it hands out may wait for company (a lazy write).
   * A session hears neither of its own user nor of what was announced before its login (its login
   * tells it): it gets slices of the same bytes without those entries.
   */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const when: WriteWhen = this.crowded() ? 'lazy' : 'soon';
    const list = new PresenceList(batch);
    let oneByOne: Buffer[] | null = null;
    let written = false;
    for (const [userId, sessions] of this.online.here) {
      for (const session of sessions) {
        const first = (this.announcementsAtLogin.get(session) ?? 0) + 1 - batch[0]!.number;
        if (session.protocolMinor >= PRESENCE_LIST_MINOR) {
          for (const part of list.parts(userId, first)) {
            session.connection.sendEncoded(part, when);
            written = true;
          }
          continue;
        }
        // A 1.0 or 1.1 client: one frame per user, as those versions say.
        oneByOne ??= batch.map(({ state }) => encodeFrame({ type: 'presence', ...state } satisfies PresenceBefore12));
        for (let index = Math.max(first, 0); index < batch.length; index++) {
          if (batch[index]!.userId === userId) continue;
          session.connection.sendEncoded(oneByOne[index]!, when);
          written = true;
        }
      }
    }
    if (written) this.lastWrite = Date.now();
  }

  /** The node stops: nothing more is handed out. */
  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }
}
