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
import type { WriteWhen } from '../net/scheduler.js';
import type { AsyncStore, LastSeen, UserRow } from '../store/types.js';
import { type RoomAccess, addressHost } from './access.js';
import { type Bus, type BusMessage, type EndTarget, LoneBus, NODE_SILENT_HEARTBEATS } from './bus.js';
import type { ServerLog } from './log.js';
import type { KeyedQueue } from './serial.js';
import type { Session } from './session.js';
import type { FileTransfers } from './transfer.js';
import type { RoomClock } from './clock.js';
import { type FanOut, type LocalWriter, LoneFanOut } from './outbound/fan-out.js';

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
  /** How pushes reach the sessions, given how the Roster writes to them; a lone host's (LoneFanOut) by default. */
  fanOut?: (writer: LocalWriter) => FanOut;
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
  /** Last-seen times (and cursors) of this turn's logins and leaves, stored together (see saveLastSeen). */
  private seen: LastSeen[] = [];
  /** How pushes reach the sessions: at once on a lone host, in event order over the bus in a cluster (outbound/fan-out.ts). */
  private readonly fanOut: FanOut;
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
    this.fanOut = (options.fanOut ?? ((writer) => new LoneFanOut(writer)))({
      toAll: (bytes, messageId, except) => this.writeToAll(bytes, messageId, except),
      to: (userIds, encode, messageId, except) => this.writeTo(userIds, encode, messageId, except),
      users: () => [...this.online.keys()],
    });
    this.bus.receive(
      (message, from) => this.hear(message, from),
      () => this.beat(),
    );
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
      this.bus.publish({ kind: 'presence', userId: user.id, name: user.name, online: true, ts: now });
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
    this.bus.publish({ kind: 'presence', userId: user.id, name: user.name, online: false, ts: now });
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

  /** To every logged-in session (but `except`), on every node. */
  broadcast(frame: PushFrame, except?: Session): void {
    this.fanOut.push(null, frame, except);
  }

  /** A group as it is now, for its members on every node (see FanOut.pushGroup). */
  deliverGroup(members: Iterable<number>, frame: PushFrames['group'], except?: Session): void {
    this.fanOut.pushGroup([...members], frame, except);
  }

  /** To every session of the given users (but `except`), on every node. */
  deliver(userIds: Iterable<number>, frame: PushFrame, except?: Session): void {
    this.fanOut.push([...userIds], frame, except);
  }

  /**
   * Runs `then` once the push of event `eventId` went out on this node (at once on a lone host, or if
   * it already did): what answers its sender must not overtake a lower id still on its way.
   */
  afterPushed(eventId: number, then: () => void): void {
    this.fanOut.afterPushed(eventId, then);
  }

  /** Registers a commit's pushes and answers before any is released (§10.3, FanOut.registering). */
  registering(register: () => void): void {
    this.fanOut.registering(register);
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
    this.bus.publish({ kind: 'end', target, reason });
    return this.endHere(target, reason, except);
  }

  /** Puts a mute (until when, Infinity: until lifted; null: none) in force on the other nodes too. */
  shareMute(userId: number, until: number | null): void {
    this.bus.publish({ kind: 'mute', userId, muted: until !== null, until: until === Infinity ? null : until });
  }

  /** Stops telling the others about this node (they take its users offline at once), once its leaves are stored. */
  async close(): Promise<void> {
    await Promise.all(this.leaving);
    this.fanOut.close();
    if (this.presenceFlushTimer) clearTimeout(this.presenceFlushTimer);
    this.bus.publish({ kind: 'gone' });
    await this.bus.close();
  }

  private endHere(target: EndTarget, reason: WireError, except?: Session): number {
    const { sessions, files } = this.options;
    if ('conv' in target) {
      files?.end((owner) => owner.conv === target.conv && (target.userId === undefined || owner.userId === target.userId), reason);
      return 0;
    }
    if ('messageId' in target) {
      files?.end((owner) => owner.messageId === target.messageId, reason);
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

  /** Tells the others who is logged in here, and forgets the nodes silent for too long. */
  private beat(): void {
    const users: [number, string][] = [];
    for (const [userId, sessions] of this.online) {
      const user = sessions.values().next().value?.user;
      if (user) users.push([userId, user.name]);
    }
    this.bus.publish({ kind: 'alive', users });
    this.fanOut.heartbeat();
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
      case 'push':
        this.fanOut.heard(message);
        return;
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
