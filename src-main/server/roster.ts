/**
 * Who is online, and getting frames to them: presence on the first login and
 * the last disconnect, broadcast to the room, delivery to given users. In a cluster
 * (several nodes on one database) the same on every node: each node tells the others
 * over the bus what it delivers and who logs in or out on it, and delivers what it
 * hears to its own sessions.
 */
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { PRESENCE_LIST_MINOR } from '../../src-shared/protocol/limits.js';
import { type PresenceBefore12, type PresenceState, type PushFrame, type PushFrames } from '../../src-shared/protocol/pushes.js';
import { HEADER_BYTES, encodeFrame } from '../net/frame.js';
import type { WriteWhen } from '../net/connection.js';
import type { AsyncStore, LastSeen, UserRow } from '../store/types.js';
import { type RoomAccess, addressHost } from './access.js';
import { type Bus, type BusMessage, type EndTarget, LoneBus, NODE_SILENT_HEARTBEATS } from './bus.js';
import type { ServerLog } from './log.js';
import { type KeyedQueue, SerialQueue } from './serial.js';
import type { Session } from './session.js';
import type { FileTransfers } from './transfer.js';
import type { RoomClock } from './clock.js';
import { groupInfo } from './lookups.js';

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

/**
 * In a cluster, how long a push waits for a lower event id still on its way from another node
 * before this node reads the missing events from the database itself (see `inOrder`).
 */
export const GAP_WAIT_MS = 150;
/** Missing event ids read from the database per turn of the event loop. */
const GAP_BATCH = 100;

/** The event log entry a push carries (docs/PROTOCOL.md §17), 0 for none. */
function eventIdOf(frame: PushFrame): number {
  if (frame.type === 'message') return frame.eventId ?? 0;
  return frame.type === 'event' ? frame.event.eventId : 0;
}

export interface RosterOptions {
  /** The other nodes of a cluster; a lone host by default. Closed with the roster. */
  bus?: Bus;
  /** Every open connection of this node, for `end`. */
  sessions: ReadonlySet<Session>;
  files: FileTransfers | null;
  /** Where mutes heard from other nodes are put in force. */
  access: RoomAccess;
  /** The room's clock: presence and last-seen times are shared and stored (clock.ts). */
  clock: RoomClock;
  /** The server's turns for what takes ids (ServerContext.publish): a read-back waits for those begun before it. */
  publish: SerialQueue;
}

/** What this node knows of another node of the cluster. */
interface OtherNode {
  /** Its logged-in users, by id, with their names. */
  users: Map<number, string>;
  heardAt: number;
}

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
  /** Presence announced and not yet handed to the sessions: one frame for all of it (see flushPresence). */
  private presenceBatch: Announced[] = [];
  private presenceFlushTimer: NodeJS.Timeout | null = null;
  /** When presence was last handed to a session (Date.now()). */
  private lastPresenceWrite = -Infinity;
  /** Announcements made so far; each session's count at its login (it hears only of later ones). */
  private announcements = 0;
  private readonly announcementsAtLogin = new WeakMap<Session, number>();
  private readonly bus: Bus;
  /** The other nodes heard from, by node id. */
  private readonly others = new Map<string, OtherNode>();
  /** On how many other nodes each user is logged in. */
  private readonly elsewhere = new Map<number, number>();
  private heartbeat: NodeJS.Timeout | null = null;
  /** In a cluster: the event id this node pushes next (0 until known); pushes of later events wait in `held`. */
  private nextEventId = 0;
  private readonly held = new Map<number, (() => void)[]>();
  /** The newest event id in the database at the last heartbeat: pushed up to even when nothing newer comes. */
  private storedUpTo = 0;
  private gapTimer: NodeJS.Timeout | null = null;
  /** A read-back under way, or one whose read failed, to read again: its range (see fillGap). */
  private fill: { first: number; end: number } | null = null;
  /** A read-back waits for this node's commits under way (fillGap). */
  private fillWaiting = false;
  /** Commits registering their pushes and answers now: nothing is released meanwhile (registering). */
  private registeringNow = 0;
  private closed = false;
  /** Last-seen times (and cursors) of this turn's logins and leaves, stored together (see saveLastSeen). */
  private seen: LastSeen[] = [];
  /** In a cluster: the group push this node wrote last per group, and its reads of groups again, one at a time (deliverGroup). */
  private readonly groupsWritten = new Map<number, Buffer>();
  private readonly groupReads = new SerialQueue();
  private seenSaved: Promise<void> | null = null;
  /** Leaves whose writes are under way: close waits for them, the store closing after it. */
  private readonly leaving = new Set<Promise<void>>();

  constructor(
    private readonly store: AsyncStore,
    private readonly log: ServerLog,
    private readonly windowMs: number,
    /** The server's per-user turns: a leave's cursor write and the next login's reads of it keep their order. */
    private readonly accounts: KeyedQueue<number>,
    private readonly options: RosterOptions,
  ) {
    this.bus = options.bus ?? new LoneBus();
    if (!this.bus.shared) return;
    this.bus.receive((message, from) => this.hear(message, from));
    this.heartbeat = setInterval(() => this.beat(), this.bus.heartbeatMs).unref();
    this.beat();
  }

  /** Whether the user is logged in on this node or any other. */
  isOnline(userId: number): boolean {
    return this.online.has(userId) || this.elsewhere.has(userId);
  }

  /**
   * Adds a session that just logged in; the user's first session announces them online to the others.
   * The session counts from the call; the promise settles once its last-seen time is stored.
   */
  async join(session: Session, user: UserRow): Promise<void> {
    let sessions = this.online.get(user.id);
    const wasOnline = this.isOnline(user.id);
    const now = this.options.clock.now();
    if (!sessions) {
      sessions = new Set();
      this.online.set(user.id, sessions);
      this.publish(() => ({ kind: 'presence', userId: user.id, name: user.name, online: true, ts: now }));
    }
    sessions.add(session);
    this.announcementsAtLogin.set(session, this.announcements);
    if (!wasOnline) this.notePresence(user.id, user.name, now);
    await this.saveLastSeen({ userId: user.id, ts: now, deliveredUpTo: 0 });
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
    const now = this.options.clock.now();
    // What sat in the socket of a connection that died may never have arrived:
    // then only what the client itself said it holds counts.
    // A kick is the server's own close with a bye after everything sent, like a shutdown: the
    // kicked user's next login must not replay all they had already seen.
    const clean =
      reason === null || reason.code === ErrorCode.LOGGED_OUT || reason.code === ErrorCode.SERVER_SHUTDOWN || reason.code === ErrorCode.KICKED;
    const reached = clean ? session.sentUpTo : session.syncedTo;
    this.publish(() => ({ kind: 'presence', userId: user.id, name: user.name, online: false, ts: now }));
    if (!this.elsewhere.has(user.id)) this.notePresence(user.id, user.name, now);
    const written = this.accounts.run(user.id, async () => {
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

  /**
   * A login is announced at once, unless this user was announced less than a window ago: the others
   * then hear of them before anything they write. Everything else waits for the end of the window,
   * so a drop followed by a reconnect within it is never announced.
   */
  private notePresence(userId: number, name: string, ts: number): void {
    const pending = this.presenceChanged.has(userId);
    // The windows are this node's own: its local clock, not the room's `ts`.
    if (!pending && this.isOnline(userId) && !this.announcedOnline.has(userId) && this.sinceAnnounced(userId, Date.now()) >= this.windowMs) {
      this.announce(userId, name, ts);
      return;
    }
    this.presenceChanged.set(userId, { name, ts });
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
   * Tells this node's sessions but the user's own (which know from their login) the user's state, if
   * it is not what they were last told. Every node does so for its own sessions: presence is not a push
   * that crosses the bus, each node follows who is online where and applies the windows itself.
   */
  private announce(userId: number, name: string, ts: number): void {
    const online = this.isOnline(userId);
    if (online === this.announcedOnline.has(userId)) return;
    if (online) this.announcedOnline.add(userId);
    else this.announcedOnline.delete(userId);
    this.lastAnnounced.set(userId, Date.now());
    this.presenceBatch.push({ userId, number: ++this.announcements, state: { user: name, online, ts } });
    if (this.presenceFlushTimer) return;
    // A small room hears of a login at once after a window without presence, else a window after the
    // last push; a crowd a window after the first announcement, which gathers its logins into one push.
    const waitMs = this.crowded() ? this.windowMs : Math.max(0, this.lastPresenceWrite + this.windowMs - Date.now());
    this.presenceFlushTimer = setTimeout(() => this.flushPresence(), waitMs).unref();
  }

  private crowded(): boolean {
    return this.online.size > PRESENCE_PROMPT_USERS;
  }

  /**
   * Hands what was announced since the last call to every session of this node as one `presence`
   * frame, encoded once and shared (by a lazy pass, see Connection.sendEncoded): a window's logins
   * cost each peer one frame, however many came back at once. Its timer runs it as `announce`
   * says; it also runs before any other write (writeToAll, writeTo), so a user is announced before
   * anything they write. In a crowd, what it hands out may wait for company (a lazy write).
   * A session hears neither of its own user nor of what was announced before its login (its login
   * tells it): it gets slices of the same bytes without those entries.
   */
  private flushPresence(): void {
    if (this.presenceFlushTimer) clearTimeout(this.presenceFlushTimer);
    this.presenceFlushTimer = null;
    const batch = this.presenceBatch;
    if (batch.length === 0) return;
    this.presenceBatch = [];
    const when: WriteWhen = this.crowded() ? 'lazy' : 'soon';
    const list = new PresenceList(batch);
    let oneByOne: Buffer[] | null = null;
    let written = false;
    for (const [userId, sessions] of this.online) {
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
    if (written) this.lastPresenceWrite = Date.now();
  }

  /**
   * Encodes once and writes the same bytes to every logged-in session (but `except`), on every node.
   */
  broadcast(frame: PushFrame, except?: Session): void {
    const bytes = encodeFrame(frame);
    const messageId = frame.type === 'message' ? frame.message.id : 0;
    const eventId = eventIdOf(frame);
    this.publish(() => ({ kind: 'push', to: null, bytes, messageId, eventId }));
    this.inOrder(eventId, () => this.writeToAll(bytes, messageId, except));
  }

  /** Sends one frame to every session of the given users (but `except`), on every node. */
  /**
   * A group as it is now, for its members on every node. Two nodes may change one group at once, each
   * reading it after its own commit, and the push of the earlier read can reach a node after the later
   * one's: so in a cluster each node, once it has written a group push, reads the group again, one read
   * at a time, and writes it if it is not what that node wrote last. The last read on a node comes after
   * every change it heard of, each heard after its commit: every node ends with the group as it is.
   */
  deliverGroup(members: Iterable<number>, frame: PushFrames['group'], except?: Session): void {
    const to = [...members];
    if (!this.bus.shared) {
      this.writeTo(to, () => encodeFrame(frame), 0, except);
      return;
    }
    const bytes = encodeFrame(frame);
    const groupId = frame.group.id;
    this.bus.publish({ kind: 'push', to, bytes, messageId: 0, eventId: 0, groupId });
    this.writeGroup(groupId, to, bytes, except);
  }

  private writeGroup(groupId: number, to: number[], bytes: Buffer, except?: Session): void {
    this.writeTo(to, () => bytes, 0, except);
    this.groupsWritten.set(groupId, bytes);
    void this.groupReads
      .run(async () => {
        const group = await this.store.groupById(groupId);
        if (!group) {
          this.groupsWritten.delete(groupId);
          return;
        }
        const again = encodeFrame({ type: 'group', group: await groupInfo(this.store, group) });
        if (this.groupsWritten.get(groupId)?.equals(again)) return;
        this.groupsWritten.set(groupId, again);
        this.writeTo(await this.store.memberIds(groupId), () => again, 0);
      })
      .catch((error: unknown) => this.log.error('group not read again', { group: groupId, error: String(error) }));
  }

  deliver(userIds: Iterable<number>, frame: PushFrame, except?: Session): void {
    const messageId = frame.type === 'message' ? frame.message.id : 0;
    if (!this.bus.shared) {
      this.writeTo(userIds, () => encodeFrame(frame), messageId, except);
      return;
    }
    // Published even when none of the users is known online elsewhere: one may have logged in on a
    // node whose word of it has not arrived yet.
    const to = [...userIds];
    const bytes = encodeFrame(frame);
    const eventId = eventIdOf(frame);
    this.bus.publish({ kind: 'push', to, bytes, messageId, eventId });
    this.inOrder(eventId, () => this.writeTo(to, () => bytes, messageId, except));
  }

  /**
   * Runs `write` for the push of event `eventId` (0: none) once every lower event id was pushed on
   * this node; at once on a lone host. Clients take message ids and event ids as cursors and skip
   * anything below one they hold, so pushes go out in event order (which is message order too: a
   * message and its event id are handed out in one transaction); in a cluster a lower id committed on
   * another node may still be on the bus while a higher one is ready here. What does not come within
   * GAP_WAIT_MS is read from the database (a node may have died between commit and publish, or the bus
   * be down); pushed that way, an event heard of later is not pushed again.
   */
  private inOrder(eventId: number, write: () => void): void {
    this.whenPushed(eventId, write, false);
  }

  /**
   * Runs `then` once the push of event `eventId` went out on this node (at once on a lone host, or if
   * it already did): what answers its sender must not overtake a lower id still on its way.
   */
  afterPushed(eventId: number, then: () => void): void {
    this.whenPushed(eventId, then, true);
  }

  /**
   * Registers a commit's pushes and answers (`register` calls broadcast, deliver, afterPushed) before any of
   * them is released: released between a message's push and its answer, a higher id from another node
   * would reach the sender ahead of the answer (§10.3).
   */
  registering(register: () => void): void {
    this.registeringNow += 1;
    try {
      register();
    } finally {
      this.registeringNow -= 1;
    }
    this.release();
  }

  private whenPushed(eventId: number, then: () => void, evenIfLate: boolean): void {
    if (!this.bus.shared || eventId === 0) {
      then();
      return;
    }
    if (this.nextEventId !== 0 && eventId < this.nextEventId) {
      if (evenIfLate) then();
      return;
    }
    const waiting = this.held.get(eventId);
    if (waiting) waiting.push(then);
    else this.held.set(eventId, [then]);
    this.release();
  }

  /** Runs what waits for the next ids in order; gives a missing one GAP_WAIT_MS. */
  private release(): void {
    if (this.nextEventId === 0 || this.fill || this.registeringNow > 0) return;
    for (let waiting = this.held.get(this.nextEventId); waiting; waiting = this.held.get(this.nextEventId)) {
      this.held.delete(this.nextEventId);
      this.nextEventId += 1;
      for (const then of waiting) then();
    }
    if (this.held.size > 0 || this.storedUpTo >= this.nextEventId) {
      this.fillGapIn(GAP_WAIT_MS);
    } else if (this.gapTimer) {
      clearTimeout(this.gapTimer);
      this.gapTimer = null;
    }
  }

  /**
   * Pushes the events missing below the lowest held one (or up to storedUpTo), GAP_BATCH ids per read, one
   * read for every logged-in user of this node (store.eventsOfUsers: who may see an event, a read position
   * or a group's message, is the log's to say), so a read-back costs the node, not each user.
   */
  private async fillGap(): Promise<void> {
    this.gapTimer = null;
    if (!this.fill) {
      if (this.fillWaiting) return;
      // Every commit this node began first registers its pushes: its ids are held then, so the range stops
      // below them. Read back, this node's own message would reach its sender as a push, and ahead of a
      // higher id's push the answer would then come after (§10.3).
      this.fillWaiting = true;
      try {
        await this.options.publish.run(() => undefined);
      } finally {
        this.fillWaiting = false;
      }
      const first = this.nextEventId;
      const end = Math.min(this.held.size > 0 ? Math.min(...this.held.keys()) : this.storedUpTo + 1, first + GAP_BATCH);
      if (end <= first) {
        // What was missing came while the commits were awaited.
        this.release();
        return;
      }
      // From here the range is this fill's: a push of it that comes meanwhile is not written twice, and later
      // ones wait until the range is written (a client drops an event older than one it has). A read that
      // fails leaves the fill where it was, to read the same range again.
      this.nextEventId = end;
      this.fill = { first, end };
    }
    const { first, end } = this.fill;
    const seen = await this.store.eventsOfUsers([...this.online.keys()], first - 1, end);
    // An event reads the same to everyone who may see it: encoded once.
    const encoded = new Map<number, Buffer>();
    for (const [userId, events] of seen) {
      for (const event of events) {
        const encode = (): Buffer => {
          let bytes = encoded.get(event.eventId);
          if (!bytes) {
            const frame: PushFrame = event.kind === 'message' ? { type: 'message', message: event.message, eventId: event.eventId } : { type: 'event', event };
            bytes = encodeFrame(frame);
            encoded.set(event.eventId, bytes);
          }
          return bytes;
        };
        this.writeTo([userId], encode, event.kind === 'message' ? event.message.id : 0);
      }
    }
    this.fill = null;
    this.log.warn('events read back for the bus', { from: first, to: end - 1 });
    const more = this.held.size > 0 ? !this.held.has(this.nextEventId) : this.storedUpTo >= this.nextEventId;
    if (more) this.fillGapIn(0);
    this.release();
  }

  /** Runs fillGap after `delayMs`; when the database fails it (down, say), again after GAP_WAIT_MS, not thrown. */
  private fillGapIn(delayMs: number): void {
    if (this.closed) return;
    this.gapTimer ??= setTimeout(() => {
      this.fillGap().catch((error: unknown) => {
        this.log.error('events not read back for the bus', { error: String(error) });
        this.fillGapIn(GAP_WAIT_MS);
      });
    }, delayMs).unref();
  }

  /** Writes to every logged-in session of this node (but `except`), after the presence announced so far. */
  private writeToAll(bytes: Buffer, messageId: number, except?: Session): void {
    this.flushPresence();
    for (const sessions of this.online.values()) {
      for (const session of sessions) {
        if (session === except) continue;
        session.connection.sendEncoded(bytes);
        if (messageId > session.sentUpTo) session.sentUpTo = messageId;
      }
    }
  }

  /** Writes to this node's sessions of the users (but `except`), encoding only if one is here. */
  private writeTo(userIds: Iterable<number>, encode: () => Buffer, messageId: number, except?: Session): void {
    this.flushPresence();
    let bytes: Buffer | null = null;
    for (const userId of userIds) {
      const sessions = this.online.get(userId);
      if (!sessions) continue;
      bytes ??= encode();
      for (const session of sessions) {
        if (session === except) continue;
        session.connection.sendEncoded(bytes);
        if (messageId > session.sentUpTo) session.sentUpTo = messageId;
      }
    }
  }

  /** Whether anyone among the users (everyone when null), other than `me`, is online on any node. */
  anyoneElseOnline(userIds: Iterable<number> | null, me: number): boolean {
    if (userIds === null) {
      if (this.online.size > (this.online.has(me) ? 1 : 0)) return true;
      return this.elsewhere.size > (this.elsewhere.has(me) ? 1 : 0);
    }
    for (const id of userIds) if (id !== me && this.isOnline(id)) return true;
    return false;
  }

  /**
   * Closes the sessions and transfers of the target with the reason, on this node and every other.
   * Returns how many sessions this node closed (the others close theirs as they hear of it).
   */
  end(target: EndTarget, reason: WireError, except?: Session): number {
    this.publish(() => ({ kind: 'end', target, reason }));
    return this.endHere(target, reason, except);
  }

  /** Puts a mute (until when, Infinity: until lifted; null: none) in force on the other nodes too. */
  shareMute(userId: number, until: number | null): void {
    this.publish(() => ({ kind: 'mute', userId, muted: until !== null, until: until === Infinity ? null : until }));
  }

  /** Stops telling the others about this node (they take its users offline at once), once its leaves are stored. */
  async close(): Promise<void> {
    await Promise.all(this.leaving);
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    if (this.presenceFlushTimer) clearTimeout(this.presenceFlushTimer);
    this.closed = true;
    this.heartbeat = null;
    this.publish(() => ({ kind: 'gone' }));
    await this.bus.close();
  }

  private endHere(target: EndTarget, reason: WireError, except?: Session): number {
    const { sessions, files } = this.options;
    if ('conv' in target) {
      files?.end((owner) => owner.conv === target.conv && (target.userId === undefined || owner.userId === target.userId), reason);
      return 0;
    }
    if ('token' in target) {
      files?.end((owner) => owner.tokenHash === target.token, reason);
      return 0;
    }
    const hit = (address: string, userId: number | undefined, token: string | null): boolean =>
      'address' in target
        ? addressHost(address) === target.address
        : userId === target.userId && (target.keepToken === undefined || token !== target.keepToken);
    files?.end((owner) => hit(owner.address, owner.userId, owner.tokenHash), reason);
    let closed = 0;
    for (const session of sessions) {
      if (session === except || !session.connection.isOpen || !hit(session.connection.remoteAddress, session.user?.id, session.tokenHash)) continue;
      session.connection.close(reason);
      closed += 1;
    }
    return closed;
  }

  /** Publishes when there may be other nodes; `build` is not even called on a lone host. */
  private publish(build: () => BusMessage): void {
    if (this.bus.shared) this.bus.publish(build());
  }

  /** Tells the others who is logged in here, and forgets the nodes silent for too long. */
  private beat(): void {
    const users: [number, string][] = [];
    for (const [userId, sessions] of this.online) {
      const user = sessions.values().next().value?.user;
      if (user) users.push([userId, user.name]);
    }
    this.bus.publish({ kind: 'alive', users });
    // An event whose push never came (its node died after the commit, or the publish failed) and that
    // no newer one reveals: noticed here, pushed after GAP_WAIT_MS unless its push comes meanwhile.
    // The first one also says where this node's pushes start: after what is stored.
    this.store.lastEventId().then(
      (last) => {
        if (this.nextEventId === 0) this.nextEventId = last + 1;
        else if (last >= this.nextEventId) this.storedUpTo = last;
        else return;
        this.release();
      },
      // The database is unreachable: the node goes on serving what it can, the next heartbeat asks again.
      (error: unknown) => this.log.error('newest event id not read', { error: String(error) }),
    );
    const now = Date.now();
    for (const [nodeId, node] of this.others) {
      if (now - node.heardAt <= NODE_SILENT_HEARTBEATS * this.bus.heartbeatMs) continue;
      this.log.warn('node gone', { node: nodeId, reason: 'no heartbeat', users: node.users.size });
      this.forget(nodeId);
    }
  }

  private hear(message: BusMessage, from: string): void {
    const now = Date.now();
    let node = this.others.get(from);
    if (message.kind === 'gone') {
      if (node) this.forget(from);
      return;
    }
    if (!node) {
      node = { users: new Map(), heardAt: now };
      this.others.set(from, node);
      this.log.info('node joined', { node: from });
    }
    node.heardAt = now;
    switch (message.kind) {
      case 'push': {
        const { to, bytes, messageId, eventId, groupId } = message;
        if (groupId !== undefined && to !== null) {
          this.writeGroup(groupId, to, bytes);
          return;
        }
        this.inOrder(eventId, () => (to === null ? this.writeToAll(bytes, messageId) : this.writeTo(to, () => bytes, messageId)));
        return;
      }
      case 'presence':
        this.setElsewhere(node, message.userId, message.name, message.online, message.ts);
        return;
      case 'alive': {
        const listed = new Map(message.users);
        const ts = this.options.clock.now();
        for (const [userId, name] of node.users) if (!listed.has(userId)) this.setElsewhere(node, userId, name, false, ts);
        for (const [userId, name] of listed) this.setElsewhere(node, userId, name, true, ts);
        return;
      }
      case 'end':
        this.endHere(message.target, message.reason);
        return;
      case 'mute':
        this.options.access.heardMute(message.userId, message.muted ? (message.until ?? Infinity) : null);
        return;
    }
  }

  /** A node's users are offline, as far as that node goes. */
  private forget(nodeId: string): void {
    const node = this.others.get(nodeId);
    if (!node) return;
    const ts = this.options.clock.now();
    for (const [userId, name] of node.users) this.setElsewhere(node, userId, name, false, ts);
    this.others.delete(nodeId);
  }

  /** Records that the user is (or is no longer) logged in on the node, and notes a change of their presence. */
  private setElsewhere(node: OtherNode, userId: number, name: string, online: boolean, ts: number): void {
    if (online === node.users.has(userId)) return;
    const wasOnline = this.isOnline(userId);
    const count = (this.elsewhere.get(userId) ?? 0) + (online ? 1 : -1);
    if (online) node.users.set(userId, name);
    else node.users.delete(userId);
    if (count > 0) this.elsewhere.set(userId, count);
    else this.elsewhere.delete(userId);
    if (wasOnline !== this.isOnline(userId)) this.notePresence(userId, name, ts);
  }
}

/** A user's announced state, and whose it is. */
interface Announced {
  userId: number;
  /** Its place among all announcements (Roster.announcements). */
  number: number;
  state: PresenceState;
}

const LIST_START = Buffer.from('{"type":"presence","users":[');
const LIST_END = Buffer.from(']}');
const COMMA = Buffer.from(',');

/**
 * One `presence` frame listing a batch of announcements, encoded once. Where each entry lies in it is
 * kept, so the frame without one user's entries is a few slices of the same bytes behind a header of
 * its own, not a copy.
 */
class PresenceList {
  private readonly frame: Buffer;
  /** Each entry's first byte in `frame`, and one past its last. */
  private readonly bounds: [number, number][] = [];
  /** Which entries are about each user, in order. */
  private readonly entriesOf = new Map<number, number[]>();
  /** The whole frame, as parts. */
  private readonly whole: Buffer[];

  constructor(private readonly batch: readonly Announced[]) {
    batch.forEach(({ userId }, index) => {
      const entries = this.entriesOf.get(userId);
      if (entries) entries.push(index);
      else this.entriesOf.set(userId, [index]);
    });
    const entries = batch.map(({ state }) => Buffer.from(JSON.stringify(state)));
    let offset = HEADER_BYTES + LIST_START.length;
    for (const entry of entries) {
      this.bounds.push([offset, offset + entry.length]);
      offset += entry.length + COMMA.length;
    }
    const parts = [Buffer.alloc(HEADER_BYTES), LIST_START];
    entries.forEach((entry, index) => parts.push(...(index > 0 ? [COMMA, entry] : [entry])));
    parts.push(LIST_END);
    this.frame = Buffer.concat(parts);
    this.frame.writeUInt32BE(this.frame.length - HEADER_BYTES, 0);
    this.whole = [this.frame];
  }

  /**
   * The frame as parts to write one after another, with only the entries from index `first` on that are
   * not about `userId`; none if that leaves no entry. Its cost does not grow with the batch: a login
   * ramp's batch lists hundreds of users, and every session that logged in during it needs a slice.
   */
  parts(userId: number, first: number): Buffer[] {
    const from = Math.max(first, 0);
    const own = this.entriesOf.get(userId)?.filter((index) => index >= from) ?? [];
    if (from === 0 && own.length === 0) return this.whole;
    // The runs of entries between the user's own, each one slice of the frame.
    const kept: Buffer[] = [];
    let runStart = from;
    for (const end of [...own, this.batch.length]) {
      if (end > runStart) {
        if (kept.length > 0) kept.push(COMMA);
        kept.push(this.frame.subarray(this.bounds[runStart]![0], this.bounds[end - 1]![1]));
      }
      runStart = end + 1;
    }
    if (kept.length === 0) return [];
    let length = LIST_START.length + LIST_END.length;
    for (const part of kept) length += part.length;
    const head = Buffer.alloc(HEADER_BYTES + LIST_START.length);
    head.writeUInt32BE(length, 0);
    LIST_START.copy(head, HEADER_BYTES);
    return [head, ...kept, LIST_END];
  }
}
