/**
 * When the connections of one server (or one client) write and handle frames: an object each
 * server makes for its connections, not state of the module, so two servers in one process (a
 * test's cluster, an app hosting a room and joining another) never pace each other's writes.
 *
 * - Writes: a turn's frames for one peer (replies, a fan-out of many senders' messages, the
 *   presence of many logins) go out as one buffer in one write at the end of the turn instead of one
 *   write each: the per-write cost, not the bytes, is what limits a busy host. Lazy frames
 *   (presence) wait up to a window for company, written by a pass over every connection with such
 *   frames, paced by the turn's budget (turn.ts).
 * - Handling: with `sharedTurn`, the connections' handlers share one budget per turn; those that
 *   find it spent wait for a later turn, in the order they found it.
 *
 * The turn's clock itself (turn.ts) stays one per process: it measures the event loop's turn, and
 * a process has one loop.
 */
import { TURN_BUDGET_MS, currentTurn, turnBegins, turnBudgetLeft, turnSpentMs } from './turn.js';

/**
 * How long a frame sent `lazily` may wait for company. Presence changes go to every
 * client: thousands of logins would otherwise cost thousands of writes to each of
 * thousands of peers. Any ordinary frame to the peer takes the waiting ones along.
 */
export const LAZY_FLUSH_MS = 1000;

/**
 * Frames are handed to sockets while the turn's budget lasts (turn.ts), the connections left
 * waiting for the next: TLS encrypts each peer's copy, and a commit's pushes to a thousand peers
 * took 50 to 230 ms in one turn. Those left keep their place, and their frames, ahead of anyone
 * written later. Connections written whatever the budget: a room's ordinary fan-out (tens of
 * peers) is never split.
 */
export const WRITE_FREE_CONNECTIONS = 64;

/**
 * What one turn of a lazy flush may hand to sockets in bytes, besides the turn's time budget,
 * before the rest waits for the next turn (at least one connection a turn). Every logged-in peer's
 * presence falls due together: 10,000 peers of a login ramp in one turn held the loop for most of a
 * second (TLS encrypts each peer's copy), and every chat message with it.
 */
export const LAZY_BYTES_PER_TURN = 4 * 1024 * 1024;

/**
 * How far into a turn (turn.ts) the handlers of all connections together may run before the
 * connections with frames left wait for a later turn; the rest of the turn's budget is left for
 * writing and handshakes. One connection's budget does not bound a storm in which a thousand
 * connections each handle one frame in the same turn (a thousand catch-up pages released together
 * after a host restart held the loop for 100 to 200 ms).
 */
const SHARED_BUDGET_MS = TURN_BUDGET_MS / 2;
/**
 * Frames handled in a turn before the shared budget's clock counts: the light traffic of a room
 * (a few frames a turn) never waits for a later turn because the process lost its core mid-turn.
 */
const SHARED_FREE_FRAMES = 16;

/**
 * When a frame is written: 'turn' at the end of this turn; 'lazy' within the scheduler's lazy window,
 * by a pass over every connection with such frames, paced by the turn's budget; 'soon' by such a pass
 * starting now (one already under way: the next, right after it).
 */
export type WriteWhen = 'turn' | 'soon' | 'lazy';

/** What the scheduler needs of a connection. */
export interface Writable {
  /** Queues every frame waiting for this peer for its socket, and hands it what it can take now; returns their bytes. */
  flush(joined?: JoinedFrames): number;
  /** The frames waiting now, for a lazy pass to write later (see flushDue). */
  lazyDue(): LazyDue;
  /** Writes the frames a lazy pass owes, keeping any that came after them; returns their bytes. */
  flushDue(due: LazyDue, joined: JoinedFrames): number;
}

/** What a lazy pass owes a connection: the frames it had waiting when the pass began. */
export interface LazyDue {
  connection: Writable;
  frames: Buffer[];
  count: number;
}

/** Frame lists already joined into one buffer, by their first frame. */
export type JoinedFrames = Map<Buffer, { frames: Buffer[]; bytes: Buffer }[]>;

/** Runs a connection's queued frames; `admitted` when the shared budget was checked for it already. */
export type Step = (admitted?: boolean) => void;

export interface SchedulerOptions {
  /** How long a frame sent lazily may wait for company; LAZY_FLUSH_MS when not given. */
  lazyFlushMs?: number;
  /**
   * Whether the connections' handlers share one budget per turn (SHARED_BUDGET_MS): a server's many
   * peers. Not a client's one link, whose handling would only be slowed by what other links do.
   */
  sharedTurn?: boolean;
}

export class ConnectionScheduler {
  readonly lazyFlushMs: number;
  readonly sharedTurn: boolean;

  /** Connections with frames waiting to be written at the end of this turn. */
  private readonly withPendingWrites = new Set<Writable>();
  private flushScheduled = false;

  private readonly withLazyWrites = new Set<Writable>();
  private lazyTimer: NodeJS.Timeout | null = null;
  /** When lazyTimer fires: a 'soon' frame brings it forward. */
  private lazyDeadline = Infinity;
  /** A flush under way, over one or more turns: the connections due when it began, how far it got, the buffers they share. */
  private lazyPass: { due: LazyDue[]; next: number; joined: JoinedFrames } | null = null;
  /** The window of the timer that fired during a pass, if one did: the next pass waits that long after this one. */
  private lazyDueAgainMs: number | null = null;
  /** The timer armed last was armed for a 'soon' frame: one that fires during a pass has the next pass follow it at once. */
  private lazySoon = false;

  /**
   * The turn (turn.ts) whose frames sharedFrames counts. The budget is the turn's wall time, not the
   * handlers' own: most of a request's work runs in microtasks after its handler has returned a
   * promise (a login waiting for its account's queue, a store call behind a transaction), and those
   * run between one connection's data and the next, so the clock sees them.
   */
  private sharedTurnSeen = -1;
  private sharedFrames = 0;
  private releaseScheduled = false;
  /**
   * Steps of connections that found the shared budget spent, in the order they found it. While any
   * wait, frames that come later wait behind them: each turn releases them first.
   */
  private readonly waitingForTurn: Step[] = [];

  constructor(options: SchedulerOptions = {}) {
    this.lazyFlushMs = options.lazyFlushMs ?? LAZY_FLUSH_MS;
    this.sharedTurn = options.sharedTurn ?? false;
  }

  /** The connection has frames for the end of this turn. */
  writeThisTurn(connection: Writable): void {
    this.withPendingWrites.add(connection);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushPending);
    }
  }

  /** The connection has frames that may wait: within the lazy window, or for a pass starting now ('soon'). */
  writeLazily(connection: Writable, when: 'soon' | 'lazy'): void {
    this.withLazyWrites.add(connection);
    const waitMs = when === 'soon' ? 0 : this.lazyFlushMs;
    if (Date.now() + waitMs >= this.lazyDeadline) return;
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyDeadline = Date.now() + waitMs;
    this.lazySoon = when === 'soon';
    this.lazyTimer = setTimeout(this.flushLazy, waitMs).unref();
  }

  /** The connection wrote (or dropped) everything it had: no flush owes it anything. */
  written(connection: Writable): void {
    this.withPendingWrites.delete(connection);
    this.withLazyWrites.delete(connection);
  }

  /**
   * Writes now what every connection was sent in this turn, instead of at the end of it, for a
   * turn's budget; the rest in the next turns. For a callback that itself runs at the end of a turn
   * (the group commit, in setImmediate): the scheduled flush would run only in the next loop
   * iteration, after another whole round of reading and handling requests.
   */
  readonly flushPending = (): void => {
    this.flushScheduled = false;
    turnBegins();
    let written = 0;
    for (const connection of this.withPendingWrites) {
      connection.flush();
      if (++written >= WRITE_FREE_CONNECTIONS && !turnBudgetLeft()) break;
    }
    if (this.withPendingWrites.size > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushPending);
    }
  };

  private readonly flushLazy = (): void => {
    this.lazyTimer = null;
    this.lazyDeadline = Infinity;
    const soon = this.lazySoon;
    this.lazySoon = false;
    if (this.lazyPass) this.lazyDueAgainMs = soon ? 0 : this.lazyFlushMs;
    else this.startLazyPass();
  };

  private startLazyPass(): void {
    this.lazyPass = { due: [...this.withLazyWrites].map((connection) => connection.lazyDue()), next: 0, joined: new Map() };
    this.continueLazyPass();
  }

  /**
   * Writes the connections of the pass, in the order their lazy frames came, for one turn's budget.
   * Each is written once per pass with the frames it had when the pass began, so peers waiting for
   * the same frames still share one buffer in a later turn; what came since waits for the next pass.
   */
  private readonly continueLazyPass = (): void => {
    const pass = this.lazyPass!;
    turnBegins();
    let bytes = 0;
    while (pass.next < pass.due.length) {
      const due = pass.due[pass.next++]!;
      bytes += due.connection.flushDue(due, pass.joined);
      if (bytes >= LAZY_BYTES_PER_TURN || !turnBudgetLeft()) break;
    }
    if (pass.next < pass.due.length) {
      setImmediate(this.continueLazyPass);
      return;
    }
    this.lazyPass = null;
    if (this.lazyDueAgainMs === null) return;
    // The window starts over after the pass: a pass that outlasts it leaves the loop a window for
    // everything else (a login ramp's logins) before the next, instead of one pass after another.
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyDeadline = Date.now() + this.lazyDueAgainMs;
    this.lazyTimer = setTimeout(this.flushLazy, this.lazyDueAgainMs).unref();
    this.lazyDueAgainMs = null;
  };

  /**
   * Whether a connection's next frame waits for a later turn (then `step` runs when it may): all
   * connections' handlers have spent this turn's budget, or others wait already. Never without
   * `sharedTurn`, nor when `admitted` (released from the wait).
   */
  mustWaitForTurn(step: Step, admitted: boolean): boolean {
    if (!this.sharedTurn || admitted) return false;
    if (this.waitingForTurn.length === 0 && this.sharedBudgetLeft()) return false;
    this.waitingForTurn.push(step);
    this.scheduleRelease();
    return true;
  }

  /**
   * Whether a connection may handle a frame now: any within SHARED_BUDGET_MS of the turn, the first
   * SHARED_FREE_FRAMES of a turn within the whole turn's budget.
   */
  private sharedBudgetLeft(): boolean {
    const spent = turnSpentMs();
    const turn = currentTurn();
    if (turn !== this.sharedTurnSeen) {
      this.sharedTurnSeen = turn;
      this.sharedFrames = 0;
    }
    this.sharedFrames += 1;
    return spent < SHARED_BUDGET_MS || (this.sharedFrames <= SHARED_FREE_FRAMES && spent < TURN_BUDGET_MS);
  }

  private scheduleRelease(): void {
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    setImmediate(this.releaseTurn);
  }

  /** The connections that waited run first in a turn: at least one, the next ones while its budget lasts. */
  private readonly releaseTurn = (): void => {
    this.releaseScheduled = false;
    this.release(true);
  };

  /**
   * Lets the connections that waited run, one at a time: each next one only after the microtasks
   * the previous one queued so far, so the clock includes them; the rest wait for the next turn.
   * `first`: this one runs whatever the budget (those that waited may all have run meanwhile).
   */
  private release(first: boolean): void {
    if (this.waitingForTurn.length === 0) return;
    if (!first && !this.sharedBudgetLeft()) {
      this.scheduleRelease();
      return;
    }
    this.waitingForTurn.shift()!(true);
    queueMicrotask(() => this.release(false));
  }
}

/**
 * One buffer holding the frames, shared with every peer waiting for the very same
 * frames: thousands of peers mostly wait for the same presence broadcasts, and one
 * joined copy for all of them keeps a login storm from allocating one per peer.
 */
export function joinShared(frames: Buffer[], joined: JoinedFrames): Buffer {
  const candidates = joined.get(frames[0]!) ?? [];
  const same = candidates.find((c) => c.frames.length === frames.length && c.frames.every((frame, i) => frame === frames[i]));
  if (same) return same.bytes;
  const bytes = Buffer.concat(frames);
  candidates.push({ frames, bytes });
  joined.set(frames[0]!, candidates);
  return bytes;
}
