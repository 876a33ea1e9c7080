/**
 * The room's one clock (issue 32, problem 5). Times that are stored or compared across nodes (a mute's
 * end, a ban, a message's ts and so its edit window and daily quota, an upload's expiry, last seen)
 * count from the database's clock, which every node of a cluster shares, not from each node's own:
 * a node whose clock is an hour off would otherwise give a 30-minute mute that lasts 90 minutes on
 * the others. Each node reads the database's clock at start and every CLOCK_SYNC_MS, keeps its own
 * clock's offset from it, and warns in its log while that offset is over CLOCK_SKEW_WARN_MS.
 * Intervals a node measures alone (rate limits, timeouts, presence windows) keep the local clock.
 */
import type { ServerLog } from './log.js';

export const CLOCK_SYNC_MS = 30_000;
/** Further off than this, the node's clock is worth an operator's look (NTP down, a wrong time zone setting). */
export const CLOCK_SKEW_WARN_MS = 2_000;
/** A reading whose round trip took longer than this says too little about the offset: kept out. */
const MAX_ROUND_TRIP_MS = 1_000;
/**
 * Offsets below this are taken as none: within what a reading can tell (a turn of a busy event loop between
 * the read and its answer), and too small to matter for a mute or an edit window. The node's own clock then
 * stays as it is, with no jitter of a few ms between its readings.
 */
const IN_STEP_MS = 500;

export class RoomClock {
  private offsetMs = 0;
  private warned = false;

  constructor(
    private readonly log: ServerLog,
    /** This node's own clock (ms epoch); tests give a node one that is off. */
    private readonly local: () => number = Date.now,
  ) {}

  /** The room's time now (ms epoch): this node's clock corrected by its last offset from the database's. */
  now(): number {
    return this.local() + this.offsetMs;
  }

  /** How far the database's clock is ahead of this node's (ms). */
  get offset(): number {
    return this.offsetMs;
  }

  /** Reads the database's clock (`read`) and keeps the offset; a failed or slow reading changes nothing. */
  async sync(read: () => Promise<number>): Promise<void> {
    const sentAt = this.local();
    let databaseMs: number;
    try {
      databaseMs = await read();
    } catch (error) {
      this.log.error('database clock not read', { error: String(error) });
      return;
    }
    const receivedAt = this.local();
    if (receivedAt - sentAt > MAX_ROUND_TRIP_MS) return;
    const offset = Math.round(databaseMs - (sentAt + receivedAt) / 2);
    this.offsetMs = Math.abs(offset) < IN_STEP_MS ? 0 : offset;
    const skewed = Math.abs(this.offsetMs) > CLOCK_SKEW_WARN_MS;
    if (skewed && !this.warned) {
      this.log.warn('clock skew', {
        offsetMs: this.offsetMs,
        message: `this node's clock is ${formatSkew(this.offsetMs)} the database's; the room counts from the database's`,
      });
    } else if (!skewed && this.warned) {
      this.log.info('clock in step', { offsetMs: this.offsetMs });
    }
    this.warned = skewed;
  }
}

function formatSkew(offsetMs: number): string {
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  return `${seconds} s ${offsetMs > 0 ? 'behind' : 'ahead of'}`;
}
