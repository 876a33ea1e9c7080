/**
 * One framed connection over a stream socket, used by both server and client:
 * decodes frames in order, hands them to a handler one at a time, yielding the
 * thread to other peers between frames once a turn's budget is spent (pausing the
 * socket while the handler is behind), caps the bytes queued for a peer that does
 * not read, and closes with a reason.
 */
import type { Socket } from 'node:net';
import { type WireError, ErrorCode } from '../../src-shared/protocol/errors.js';
import { type DecodedFrame, FrameDecoder, encodeFrame } from './frame.js';
import { TURN_BUDGET_MS, currentTurn, turnBegins, turnBudgetLeft, turnSpentMs } from './turn.js';

export interface ConnectionOptions {
  maxFrameBytes: number;
  /** Bytes a peer may leave unread before it is dropped as a slow consumer. */
  maxQueuedBytes: number;
  /** How long a frame sent lazily may wait for company; LAZY_FLUSH_MS when not given. */
  lazyFlushMs?: number;
  /**
   * Whether this connection's handlers share one budget per turn with every other connection
   * that does (SHARED_BUDGET_MS): a server's many peers. Not a client's one link, whose
   * handling would only be slowed by what other links in the same process do.
   */
  sharedTurn?: boolean;
}

export type FrameHandler = (frame: DecodedFrame) => void | Promise<void>;
export type CloseListener = (reason: WireError | null) => void;

/** Frames waiting for the handler before the socket stops reading. */
const PAUSE_AT = 64;
const RESUME_AT = 16;
/** How long one connection's queued frames may run back to back before it yields the thread. */
const CONNECTION_TURN_MS = 2;
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
 * Bytes queued for a peer and not yet taken by its kernel above which the connection's next
 * frame waits until the socket drains: a peer that does not read its answers does not get more
 * of its requests handled (and their answers queued) meanwhile.
 */
export const WRITE_HIGH_WATER_BYTES = 256 * 1024;
/** Time a closing peer gets to take the last frame before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * Connections with frames waiting to be written at the end of this event-loop turn.
 * A turn's frames for one peer (replies, a fan-out of many senders' messages, the
 * presence of many logins) go out as one buffer in one write instead of one write
 * each: the per-write cost, not the bytes, is what limits a busy host.
 */
const withPendingWrites = new Set<Connection>();
let flushScheduled = false;

/**
 * Frames are handed to sockets while the turn's budget lasts (turn.ts), the connections left
 * waiting for the next: TLS encrypts each peer's copy, and a commit's pushes to a thousand peers
 * took 50 to 230 ms in one turn. Those left keep their place, and their frames, ahead of anyone
 * written later. Connections written whatever the budget: a room's ordinary fan-out (tens of
 * peers) is never split.
 */
export const WRITE_FREE_CONNECTIONS = 64;

/**
 * Writes now what every connection was sent in this turn, instead of at the end of it, for a
 * turn's budget; the rest in the next turns. For a callback that itself runs at the end of a turn
 * (the group commit, in setImmediate): the scheduled flush would run only in the next loop
 * iteration, after another whole round of reading and handling requests.
 */
export function flushPendingWrites(): void {
  flushScheduled = false;
  turnBegins();
  let written = 0;
  for (const connection of withPendingWrites) {
    connection.flush();
    if (++written >= WRITE_FREE_CONNECTIONS && !turnBudgetLeft()) break;
  }
  if (withPendingWrites.size > 0 && !flushScheduled) {
    flushScheduled = true;
    setImmediate(flushPendingWrites);
  }
}

/**
 * How long a frame sent `lazily` may wait for company. Presence changes go to every
 * client: thousands of logins would otherwise cost thousands of writes to each of
 * thousands of peers. Any ordinary frame to the peer takes the waiting ones along.
 */
export const LAZY_FLUSH_MS = 1000;

/**
 * When a frame is written: 'turn' at the end of this turn; 'lazy' within LAZY_FLUSH_MS, by a pass
 * over every connection with such frames, paced by the turn's budget; 'soon' by such a pass
 * starting now (one already under way: the next, right after it).
 */
export type WriteWhen = 'turn' | 'soon' | 'lazy';
/**
 * What one turn of a lazy flush may hand to sockets in bytes, besides the turn's time budget,
 * before the rest waits for the next turn (at least one connection a turn). Every logged-in peer's
 * presence falls due together: 10,000 peers of a login ramp in one turn held the loop for most of a
 * second (TLS encrypts each peer's copy), and every chat message with it.
 */
export const LAZY_BYTES_PER_TURN = 4 * 1024 * 1024;
const withLazyWrites = new Set<Connection>();
let lazyTimer: NodeJS.Timeout | null = null;
/** When lazyTimer fires: a connection whose frames may wait less brings it forward. */
let lazyDeadline = Infinity;
/** A flush under way, over one or more turns: the connections due when it began, how far it got, the buffers they share. */
let lazyPass: { due: LazyDue[]; next: number; joined: JoinedFrames } | null = null;
/** The window of the timer that fired during a pass, if one did: the next pass waits that long after this one. */
let lazyDueAgainMs: number | null = null;
/** The window of the timer armed last. */
let lazyWindowMs = LAZY_FLUSH_MS;
/** The timer armed last was armed for a 'soon' frame: one that fires during a pass has the next pass follow it at once. */
let lazySoon = false;

function flushLazyWrites(): void {
  lazyTimer = null;
  lazyDeadline = Infinity;
  const soon = lazySoon;
  lazySoon = false;
  if (lazyPass) lazyDueAgainMs = soon ? 0 : lazyWindowMs;
  else startLazyPass();
}

function startLazyPass(): void {
  lazyPass = { due: [...withLazyWrites].map((connection) => connection.lazyDue()), next: 0, joined: new Map() };
  continueLazyPass();
}

/**
 * Writes the connections of the pass, in the order their lazy frames came, for one turn's budget.
 * Each is written once per pass with the frames it had when the pass began, so peers waiting for
 * the same frames still share one buffer in a later turn; what came since waits for the next pass.
 */
function continueLazyPass(): void {
  const pass = lazyPass!;
  turnBegins();
  let bytes = 0;
  while (pass.next < pass.due.length) {
    const due = pass.due[pass.next++]!;
    bytes += due.connection.flushDue(due, pass.joined);
    if (bytes >= LAZY_BYTES_PER_TURN || !turnBudgetLeft()) break;
  }
  if (pass.next < pass.due.length) {
    setImmediate(continueLazyPass);
    return;
  }
  lazyPass = null;
  if (lazyDueAgainMs === null) return;
  // The window starts over after the pass: a pass that outlasts it leaves the loop a window for
  // everything else (a login ramp's logins) before the next, instead of one pass after another.
  if (lazyTimer) clearTimeout(lazyTimer);
  lazyDeadline = Date.now() + lazyDueAgainMs;
  lazyTimer = setTimeout(flushLazyWrites, lazyDueAgainMs).unref();
  lazyDueAgainMs = null;
}

/** What a lazy pass owes a connection: the frames it had waiting when the pass began (see flushDue). */
interface LazyDue {
  connection: Connection;
  frames: Buffer[];
  count: number;
}

/** Frame lists already joined into one buffer, by their first frame. */
type JoinedFrames = Map<Buffer, { frames: Buffer[]; bytes: Buffer }[]>;

/**
 * One buffer holding the frames, shared with every peer waiting for the very same
 * frames: thousands of peers mostly wait for the same presence broadcasts, and one
 * joined copy for all of them keeps a login storm from allocating one per peer.
 */
function joinShared(frames: Buffer[], joined: JoinedFrames): Buffer {
  const candidates = joined.get(frames[0]!) ?? [];
  const same = candidates.find((c) => c.frames.length === frames.length && c.frames.every((frame, i) => frame === frames[i]));
  if (same) return same.bytes;
  const bytes = Buffer.concat(frames);
  candidates.push({ frames, bytes });
  joined.set(frames[0]!, candidates);
  return bytes;
}

/**
 * The turn (turn.ts) whose frames sharedFrames counts. The budget is the turn's wall time, not the
 * handlers' own: most of a request's work runs in microtasks after its handler has returned a
 * promise (a login waiting for its account's queue, a store call behind a transaction), and those
 * run between one connection's data and the next, so the clock sees them.
 */
let sharedTurn = -1;
let sharedFrames = 0;
let releaseScheduled = false;
/**
 * Steps of connections that found the shared budget spent, in the order they found it. While any
 * wait, frames that come later wait behind them: each turn releases them first.
 */
const waitingForTurn: Step[] = [];
/** Runs a connection's queued frames; `admitted` when the shared budget was checked for it already. */
type Step = (admitted?: boolean) => void;

/**
 * Whether a connection may handle a frame now: any within SHARED_BUDGET_MS of the turn, the first
 * SHARED_FREE_FRAMES of a turn within the whole turn's budget.
 */
function sharedBudgetLeft(): boolean {
  const spent = turnSpentMs();
  const turn = currentTurn();
  if (turn !== sharedTurn) {
    sharedTurn = turn;
    sharedFrames = 0;
  }
  sharedFrames += 1;
  return spent < SHARED_BUDGET_MS || (sharedFrames <= SHARED_FREE_FRAMES && spent < TURN_BUDGET_MS);
}

function waitForTurn(step: Step): void {
  waitingForTurn.push(step);
  scheduleRelease();
}

function scheduleRelease(): void {
  if (releaseScheduled) return;
  releaseScheduled = true;
  setImmediate(releaseTurn);
}

/** The connections that waited run first in a turn: at least one, the next ones while its budget lasts. */
function releaseTurn(): void {
  releaseScheduled = false;
  release(true);
}

/**
 * Lets the connections that waited run, one at a time: each next one only after the microtasks
 * the previous one queued so far, so the clock includes them; the rest wait for the next turn.
 * `first`: this one runs whatever the budget (those that waited may all have run meanwhile).
 */
function release(first: boolean): void {
  if (waitingForTurn.length === 0) return;
  if (!first && !sharedBudgetLeft()) {
    scheduleRelease();
    return;
  }
  waitingForTurn.shift()!(true);
  queueMicrotask(() => release(false));
}

export class Connection {
  readonly remoteAddress: string;
  private receivedAt = Date.now();
  /** Bytes received so far (the rate limiter charges them). */
  receivedBytes = 0;
  /** When the frame now being received started, or null between frames. */
  partialFrameSince: number | null = null;
  private readonly decoder: FrameDecoder;
  private readonly queue: DecodedFrame[] = [];
  private running = false;
  /** Frames wait until the peer takes what was written to it (see mustWait). */
  private waitingForDrain = false;
  private closing = false;
  private closedWith: WireError | null | undefined;
  private readonly closeListeners: CloseListener[] = [];
  private handler: FrameHandler = () => undefined;
  /** Encoded frames not yet handed to the socket (see withPendingWrites). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Made on first use: most connections never run work that outlives a request. */
  private closingController: AbortController | undefined;

  constructor(
    readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => undefined);
    socket.on('close', () => this.finish(this.closedWith ?? null));
  }

  /** Sets who receives frames; frames arriving before are kept until then. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
    this.pump();
  }

  onClose(listener: CloseListener): void {
    if (this.closedWith !== undefined && this.socket.destroyed) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  /**
   * When the peer was last heard from; now while this side has stopped reading because its own
   * handler is behind (the peer's pings wait unread in the socket): a heartbeat check must not
   * blame a peer for frames this side has not read yet. Not while it waits for a peer that does
   * not read its own answers: that peer is the one behind.
   */
  get lastReceivedAt(): number {
    return this.socket.isPaused() && !this.closing && !this.waitingForDrain ? Date.now() : this.receivedAt;
  }

  get isOpen(): boolean {
    return !this.closing && !this.socket.destroyed;
  }

  /** Aborted once the connection is closing: work whose answer only this peer wants can stop. */
  get closingSignal(): AbortSignal {
    if (!this.closingController) {
      this.closingController = new AbortController();
      if (!this.isOpen) this.closingController.abort();
    }
    return this.closingController.signal;
  }

  /** Bytes written but not yet taken by the peer. */
  get queuedBytes(): number {
    return this.socket.writableLength + this.pendingBytes;
  }

  send(value: unknown): void {
    this.sendEncoded(encodeFrame(value));
  }

  /**
   * Writes an already encoded frame (a broadcast encodes once for all) as `when` says (WriteWhen).
   * Frames keep their order whatever each one's `when`.
   */
  sendEncoded(frame: Buffer, when: WriteWhen = 'turn'): void {
    if (!this.isOpen) return;
    // The cap counts what is already waiting, so one large reply to an idle peer still goes out.
    if (this.queuedBytes > this.options.maxQueuedBytes) {
      this.destroy({ code: ErrorCode.SLOW_CONSUMER, message: 'the client did not read its messages in time' });
      return;
    }
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (when !== 'turn') {
      withLazyWrites.add(this);
      const windowMs = this.options.lazyFlushMs ?? LAZY_FLUSH_MS;
      const waitMs = when === 'soon' ? 0 : windowMs;
      if (Date.now() + waitMs < lazyDeadline) {
        if (lazyTimer) clearTimeout(lazyTimer);
        lazyDeadline = Date.now() + waitMs;
        lazyWindowMs = windowMs;
        lazySoon = when === 'soon';
        lazyTimer = setTimeout(flushLazyWrites, waitMs).unref();
      }
      return;
    }
    withPendingWrites.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushPendingWrites);
    }
  }

  /** Hands the frames waiting for this peer to the socket in one write; returns their bytes. */
  flush(joined?: JoinedFrames): number {
    withPendingWrites.delete(this);
    withLazyWrites.delete(this);
    if (this.pending.length === 0) return 0;
    const frames = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.socket.destroyed) return 0;
    if (joined && frames.length > 1) {
      this.socket.write(joinShared(frames, joined));
      return bytes;
    }
    // Corked writes reach the kernel as one writev; the broadcast Buffers shared by all
    // peers are not copied, which a concat per peer would do thousands of times over.
    this.socket.cork();
    for (const frame of frames) this.socket.write(frame);
    this.socket.uncork();
    return bytes;
  }

  lazyDue(): LazyDue {
    return { connection: this, frames: this.pending, count: this.pending.length };
  }

  /**
   * Writes the frames a lazy pass owes this peer, keeping any that came after them for the next
   * pass; nothing if they already went out with an ordinary frame. Returns their bytes.
   */
  flushDue(due: LazyDue, joined: JoinedFrames): number {
    if (this.pending !== due.frames) return 0;
    if (due.count === this.pending.length) return this.flush(joined);
    const frames = this.pending.slice(0, due.count);
    this.pending = this.pending.slice(due.count);
    let bytes = 0;
    for (const frame of frames) bytes += frame.length;
    this.pendingBytes -= bytes;
    if (!this.socket.destroyed) this.socket.write(frames.length > 1 ? joinShared(frames, joined) : frames[0]!);
    return bytes;
  }

  /** Sends a bye frame with the reason, then closes. */
  close(reason: WireError): void {
    if (!this.isOpen) return;
    this.flush();
    this.socket.write(encodeFrame({ type: 'bye', error: reason }));
    this.closing = true;
    this.closedWith = reason;
    this.queue.length = 0;
    this.closingController?.abort();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Closes at once without telling the peer (it is not reading, or is gone). */
  destroy(reason: WireError | null): void {
    if (this.closedWith === undefined) this.closedWith = reason;
    this.closing = true;
    this.queue.length = 0;
    this.dropPending();
    this.closingController?.abort();
    this.socket.destroy();
  }

  private dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
    withPendingWrites.delete(this);
    withLazyWrites.delete(this);
  }

  /**
   * Stops reading frames from the socket, which from now on carries something else (a
   * file transfer, docs/PROTOCOL.md §18); frames it would have written go nowhere.
   * Returns whether bytes beyond the frames handled so far had arrived.
   */
  release(): boolean {
    this.socket.off('data', this.onData);
    this.closing = true;
    this.dropPending();
    const unread = this.queue.length > 0 || this.decoder.bufferedBytes > 0;
    this.queue.length = 0;
    return unread;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closing) return;
    turnBegins();
    this.receivedAt = Date.now();
    this.receivedBytes += chunk.length;
    const frames = this.decoder.push(chunk);
    for (const frame of frames) this.queue.push(frame);
    // A frame that completed restarts the clock for the one begun after it.
    if (this.decoder.bufferedBytes === 0) this.partialFrameSince = null;
    else if (frames.length > 0 || this.partialFrameSince === null) this.partialFrameSince = this.receivedAt;
    if (this.queue.length >= PAUSE_AT) this.socket.pause();
    this.pump();
  };

  private pump(): void {
    if (this.running) return;
    this.running = true;
    const step: Step = (admitted = false): void => {
      const began = performance.now();
      while (this.queue.length > 0 && !this.closing) {
        if (this.mustWait(step, admitted)) return;
        admitted = false;
        const frame = this.queue.shift()!;
        if (this.queue.length <= RESUME_AT && this.socket.isPaused()) this.socket.resume();
        let result: void | Promise<void>;
        try {
          result = this.handler(frame);
        } catch {
          continue;
        }
        if (result instanceof Promise) {
          result.catch(() => undefined).finally(() => step());
          return;
        }
        // One connection's queued frames must not hold the thread: once they have taken
        // CONNECTION_TURN_MS, every other peer's frames (and the server's timers) get a turn.
        if (this.queue.length > 0 && performance.now() - began >= CONNECTION_TURN_MS) {
          setImmediate(() => step());
          return;
        }
      }
      this.running = false;
      if (this.socket.isPaused() && !this.closing) this.socket.resume();
    };
    step();
  }

  /**
   * Whether the next frame waits: for a later turn when all connections' handlers have spent
   * this turn's budget, or for the socket to drain when the peer has left too much unread (the
   * socket stops reading meanwhile). Either way `step` runs when the wait is over.
   */
  private mustWait(step: Step, admitted: boolean): boolean {
    if (this.options.sharedTurn && !admitted && (waitingForTurn.length > 0 || !sharedBudgetLeft())) {
      waitForTurn(step);
      return true;
    }
    // Only bytes handed to the socket: 'drain' comes once they are taken. Frames still waiting
    // for this turn's (or a lazy) flush would not bring it.
    if (this.socket.writableLength <= WRITE_HIGH_WATER_BYTES || !this.socket.writableNeedDrain) return false;
    this.waitingForDrain = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.waitingForDrain = false;
      step();
    });
    return true;
  }

  private finish(reason: WireError | null): void {
    this.dropPending();
    this.closedWith = reason;
    this.closing = true;
    this.closingController?.abort();
    const listeners = this.closeListeners.splice(0);
    for (const listener of listeners) listener(reason);
  }
}

export function formatAddress(address: string | undefined, port: number | undefined): string {
  if (!address) return 'unknown';
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
