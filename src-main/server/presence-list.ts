/**
 * One `presence` frame listing a batch of announcements (presence.ts), encoded once, and the same
 * frame without some of its entries as slices of those bytes.
 */
import type { PresenceState } from '../../src-shared/protocol/pushes.js';
import { HEADER_BYTES } from '../net/frame.js';

/** A user's announced state, and whose it is. */
export interface Announced {
  userId: number;
  /** Its place among all announcements of the node (Presence.announcements). */
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
export class PresenceList {
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
