/**
 * Per-connection rate limits: one token bucket for frames and one for bytes
 * received. A frame over either limit is refused with RATE_LIMITED, and the
 * server reads nothing more from that connection until the buckets could take
 * a frame again: a flooder is slowed down by TCP itself and costs the server
 * about one error frame per wait instead of one per frame it sends.
 */

export interface RateLimits {
  /** Frames per second a connection may keep up (every frame counts, pings too). */
  framesPerSecond: number;
  /** Frames a connection may send at once on top of that rate (the bucket's size). */
  frameBurst: number;
  /** Bytes per second a connection may keep up (frame headers included). */
  bytesPerSecond: number;
  /** Bytes a connection may send at once (the bucket's size). */
  byteBurst: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  framesPerSecond: 100,
  frameBurst: 200,
  bytesPerSecond: 1024 * 1024,
  byteBurst: 16 * 1024 * 1024,
};

/** The longest the server stops reading a limited connection at a time (keeps it under any sane heartbeat). */
export const MAX_RATE_PAUSE_MS = 1000;

/** Fills the defaults in and refuses limits that would stop every client. */
export function resolveRateLimits(limits: Partial<RateLimits> | undefined): RateLimits {
  const resolved = { ...DEFAULT_RATE_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (!(value > 0)) throw new RangeError(`rate limit ${name} must be above 0 (Infinity turns it off), not ${value}`);
  }
  if (resolved.frameBurst < 1) throw new RangeError('rate limit frameBurst must be at least 1');
  return resolved;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly size: number,
    now: number,
  ) {
    this.tokens = size;
    this.updatedAt = now;
  }

  refill(now: number): void {
    const gained = Number.isFinite(this.perSecond) ? ((now - this.updatedAt) * this.perSecond) / 1000 : Infinity;
    this.tokens = Math.min(this.size, this.tokens + gained);
    this.updatedAt = now;
  }

  /** Takes `n`, even into debt (bytes that already arrived cannot be refused). */
  take(n: number): void {
    this.tokens -= n;
  }

  /** Milliseconds until the bucket holds `n` tokens (0 if it does now). */
  waitFor(n: number): number {
    if (this.tokens >= n) return 0;
    return Math.ceil(((n - this.tokens) * 1000) / this.perSecond);
  }
}

/** The limits of one connection. */
export class ConnectionRateLimiter {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private bytesCharged = 0;

  constructor(readonly limits: RateLimits, now = Date.now()) {
    this.frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst, now);
    this.bytes = new TokenBucket(limits.bytesPerSecond, limits.byteBurst, now);
  }

  /**
   * Decides on a frame, then charges the bytes received since the last call
   * (`receivedBytes` is the connection's running total). A frame passes while
   * the byte bucket is not in debt; its own bytes may put it there, so a frame
   * of any allowed size can pass. Every byte received counts, refused or not. Returns 0 if the frame may be carried out,
   * otherwise the milliseconds until one could be.
   */
  admit(receivedBytes: number, now = Date.now()): number {
    this.frames.refill(now);
    this.bytes.refill(now);
    const allowed = this.frames.waitFor(1) === 0 && this.bytes.waitFor(0) === 0;
    this.bytes.take(receivedBytes - this.bytesCharged);
    this.bytesCharged = receivedBytes;
    if (allowed) {
      this.frames.take(1);
      return 0;
    }
    // Counted after charging, so a refused frame's own bytes are paid for before it is retried.
    return Math.max(1, this.frames.waitFor(1), this.bytes.waitFor(0));
  }

  /** The refusal a client gets, saying which limit it hit. */
  describe(wait: number): string {
    const { framesPerSecond, frameBurst, bytesPerSecond, byteBurst } = this.limits;
    return (
      `too fast: this host allows ${framesPerSecond} frames/s (bursts of ${frameBurst}) and ` +
      `${bytesPerSecond} bytes/s (bursts of ${byteBurst}) per connection; the frame was not carried out, retry in ${wait} ms`
    );
  }
}

/**
 * One token bucket per key (an address, the room), for rare events such as registrations.
 * Full buckets are forgotten when there are many, so rotating keys cannot fill memory.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes one token for the key; returns 0, or the milliseconds until one would be there (nothing taken). */
  take(key: string, now = Date.now()): number {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.forgetFull(now);
      bucket = new TokenBucket(this.perMinute / 60, this.burst, now);
      this.buckets.set(key, bucket);
    }
    bucket.refill(now);
    const wait = bucket.waitFor(1);
    if (wait === 0) bucket.take(1);
    return wait;
  }

  /** Gives back a token taken for something that then did not happen. */
  giveBack(key: string): void {
    this.buckets.get(key)?.take(-1);
  }

  /** Takes one token for the key, into debt if there is none: what another node of the room took (throttle.ts, RoomThrottles). */
  charge(key: string, now = Date.now()): void {
    if (this.take(key, now) > 0) this.buckets.get(key)!.take(1);
  }

  /** Milliseconds until the key would have a token (0: it has one now); takes nothing. */
  peek(key: string, now = Date.now()): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    bucket.refill(now);
    return bucket.waitFor(1);
  }

  private forgetFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      bucket.refill(now);
      if (bucket.waitFor(this.burst) === 0) this.buckets.delete(key);
    }
  }
}
