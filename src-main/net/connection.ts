/**
 * One framed connection over a stream socket, used by both server and client:
 * decodes frames in order, hands them to a handler one at a time, yielding the
 * thread to other peers between frames once a turn's budget is spent (pausing the
 * socket while the handler is behind), caps the bytes queued for a peer that does
 * not read, and closes with a reason. It hands a TLS socket one piece of under 16 KiB at a time:
 * Node's TLS keeps, for the life of a connection, encryption buffers as large as the most it was
 * ever handed at once (docs/bench-notes/2026-11-27-tls-buffers.md).
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { type WireError, ErrorCode } from '../../src-shared/protocol/errors.js';
import { type DecodedFrame, FrameDecoder, encodeFrame } from './frame.js';
import { type ConnectionScheduler, type JoinedFrames, type LazyDue, type Step, type WriteWhen, type Writable, joinShared } from './scheduler.js';
import { turnBegins } from './turn.js';

export interface ConnectionOptions {
  maxFrameBytes: number;
  /** Bytes a peer may leave unread before it is dropped as a slow consumer. */
  maxQueuedBytes: number;
  /** When this connection's frames are written and handled, with the other connections of its server (scheduler.ts). */
  scheduler: ConnectionScheduler;
}

export type FrameHandler = (frame: DecodedFrame) => void | Promise<void>;
export type CloseListener = (reason: WireError | null) => void;

/** Frames waiting for the handler before the socket stops reading. */
const PAUSE_AT = 64;
const RESUME_AT = 16;
/** How long one connection's queued frames may run back to back before it yields the thread. */
const CONNECTION_TURN_MS = 2;
/**
 * Bytes queued for a peer and not yet taken by its kernel above which the connection's next
 * frame waits until the socket drains: a peer that does not read its answers does not get more
 * of its requests handled (and their answers queued) meanwhile.
 */
export const WRITE_HIGH_WATER_BYTES = 256 * 1024;
/** The most handed to a TLS socket at once: under one TLS record, so TLS sizes no buffer for more. */
export const WRITE_PIECE_BYTES = 16 * 1024 - 64;
/**
 * While more than this waits, the next piece goes as soon as the socket wrote the last, not in the
 * scheduler's next flush: a peer taking a burst gets it about as fast as in one write. Pieces handed
 * together would reach TLS as one write, and four (64 KiB) would keep a 64 KiB buffer for the connection's life.
 */
const WRITE_BURST_BYTES = 64 * 1024;
/** Time a closing peer gets to take the last frame before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

export class Connection implements Writable {
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
  /** Frames wait only for a later turn of the loop: this one's budget is spent (see pump). */
  private waitingForTurn = false;
  private closing = false;
  private closedWith: WireError | null | undefined;
  /** The socket has closed while frames it brought still wait: the close is reported once they are handled. */
  private ended = false;
  private finished = false;
  private readonly closeListeners: CloseListener[] = [];
  private handler: FrameHandler = () => undefined;
  /** Encoded frames not yet handed to the socket (see ConnectionScheduler). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Flushed frames (or the rest of one) the socket gets a piece at a time, once it has taken the last. */
  private unsent: Buffer[] = [];
  private unsentBytes = 0;
  /** The most handed to the socket at once: a plain socket holds nothing once the kernel took it. */
  private readonly pieceBytes: number;
  /** A piece was handed to the socket and its write has not completed. */
  private pieceInFlight = false;
  /** Called once every flushed byte was taken by the socket (mustWait's wait for a peer that reads again). */
  private onAllTaken: (() => void) | null = null;
  /** Made on first use: most connections never run work that outlives a request. */
  private closingController: AbortController | undefined;

  constructor(
    readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.pieceBytes = socket instanceof TLSSocket ? WRITE_PIECE_BYTES : Infinity;
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => undefined);
    socket.on('close', this.onSocketClose);
  }

  /** Sets who receives frames; frames arriving before are kept until then. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
    this.pump();
  }

  onClose(listener: CloseListener): void {
    if (this.finished) listener(this.closedWith ?? null);
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

  /**
   * The next frame already received, when nothing but a later turn of the loop holds it back (not a
   * handler still at work, not a peer that does not read): the group commit waits for a send there.
   */
  get frameDueNextTurn(): DecodedFrame | undefined {
    return this.waitingForTurn && !this.closing ? this.queue[0] : undefined;
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
    return this.socket.writableLength + this.unsentBytes + this.pendingBytes;
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
    if (when === 'turn') this.options.scheduler.writeThisTurn(this);
    else this.options.scheduler.writeLazily(this, when);
  }

  /** Queues the frames waiting for this peer for its socket and hands it the next piece; returns their bytes. */
  flush(joined?: JoinedFrames): number {
    this.options.scheduler.written(this);
    if (this.pending.length === 0) {
      this.handOver();
      return 0;
    }
    const frames = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.socket.destroyed) return 0;
    if (joined && frames.length > 1) this.queueUnsent([joinShared(frames, joined)], bytes);
    else this.queueUnsent(frames, bytes);
    return bytes;
  }

  private queueUnsent(frames: Buffer[], bytes: number): void {
    for (const frame of frames) this.unsent.push(frame);
    this.unsentBytes += bytes;
    this.handOver();
  }

  /** Hands the socket its next piece of the flushed frames, unless it is still writing the last one. */
  private handOver(): void {
    if (this.pieceInFlight || this.socket.destroyed) return;
    if (this.unsentBytes === 0) {
      const taken = this.onAllTaken;
      this.onAllTaken = null;
      taken?.();
      return;
    }
    // Corked writes reach the kernel as one writev; the broadcast Buffers shared by all
    // peers are not copied, which a concat per peer would do thousands of times over.
    this.socket.cork();
    let room = this.pieceBytes;
    while (room > 0 && this.unsent.length > 0) {
      const frame = this.unsent[0]!;
      const part = frame.length <= room ? frame : frame.subarray(0, room);
      if (part === frame) this.unsent.shift();
      else this.unsent[0] = frame.subarray(room);
      room -= part.length;
      this.unsentBytes -= part.length;
      this.socket.write(part, room === 0 || this.unsent.length === 0 ? this.pieceWritten : undefined);
    }
    this.pieceInFlight = true;
    this.socket.uncork();
  }

  /** The next piece goes in a flush of the scheduler's, within a turn's budget with every other connection's writes; in a burst at once. */
  private readonly pieceWritten = (error?: Error | null): void => {
    this.pieceInFlight = false;
    if (error) return;
    if (this.unsentBytes > 0 && this.unsentBytes <= WRITE_BURST_BYTES) this.options.scheduler.writeThisTurn(this);
    else this.handOver();
  };

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
    if (!this.socket.destroyed) this.queueUnsent([frames.length > 1 ? joinShared(frames, joined) : frames[0]!], bytes);
    return bytes;
  }

  /** Sends a bye frame with the reason, then closes. */
  close(reason: WireError): void {
    if (!this.isOpen) return;
    this.flush();
    // The socket closes after these: no later write would gain from pieces.
    for (const frame of this.unsent.splice(0)) this.socket.write(frame);
    this.unsentBytes = 0;
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
    this.unsent = [];
    this.unsentBytes = 0;
    this.options.scheduler.written(this);
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
      this.waitingForTurn = false;
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
          this.waitingForTurn = true;
          setImmediate(() => step());
          return;
        }
      }
      this.running = false;
      if (this.ended) this.finish(this.closedWith ?? null);
      else if (this.socket.isPaused() && !this.closing) this.socket.resume();
    };
    step();
  }

  /**
   * Whether the next frame waits: for a later turn when all connections' handlers have spent
   * this turn's budget, or for the socket to drain when the peer has left too much unread (the
   * socket stops reading meanwhile). Either way `step` runs when the wait is over.
   */
  private mustWait(step: Step, admitted: boolean): boolean {
    if (this.options.scheduler.mustWaitForTurn(step, admitted)) {
      this.waitingForTurn = true;
      return true;
    }
    // Only flushed bytes: they are taken in time. Frames still waiting for this turn's (or a
    // lazy) flush would not be.
    if (this.socket.writableLength + this.unsentBytes <= WRITE_HIGH_WATER_BYTES) return false;
    this.waitingForDrain = true;
    this.socket.pause();
    this.onAllTaken = () => {
      this.waitingForDrain = false;
      step();
    };
    return true;
  }

  /**
   * A peer's last frames (its answers, its bye with the reason it left) often come with its close:
   * they are handled first, then the close is reported, within CLOSE_GRACE_MS of it whatever a handler
   * does. Frames waiting for the socket to drain are not: it never will. Work for the peer stops at
   * once (closingSignal): no answer can reach it.
   */
  private readonly onSocketClose = (): void => {
    if (this.closing || this.waitingForDrain || this.queue.length === 0) {
      this.finish(this.closedWith ?? null);
      return;
    }
    this.ended = true;
    this.closingController?.abort();
    setTimeout(() => this.finish(this.closedWith ?? null), CLOSE_GRACE_MS).unref();
  };

  private finish(reason: WireError | null): void {
    if (this.finished) return;
    this.finished = true;
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
