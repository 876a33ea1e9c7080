/**
 * The short-needle index (migration 13): for each block of BLOCK_SIZE message ids, which
 * one- and two-character grams (code points) of messages.folded occur in it. The trigram
 * index cannot look up needles under three characters, so search.ts reads the messages of
 * only the blocks that hold the needle as a gram: a needle that occurs nowhere costs one
 * look-up instead of reading the whole table.
 *
 * The index may list a gram a block no longer holds, never the other way round:
 * - inserts: the store adds the grams of each batch it stores (indexInserted), skipping
 *   those already written for the newest block (a cache of the rows written, so a busy room
 *   writes almost nothing per message);
 * - edits and deletes: a trigger adds the grams of the new text and marks the block stale;
 *   deleting rows (a group's messages) marks their blocks stale too. The maintainer here
 *   recomputes stale blocks in the background, which drops grams their messages no longer
 *   hold (a deleted message's text leaves no trace in the index either);
 * - a database from before migration 13: message_grams_state.unindexed_below says which ids
 *   are not indexed yet; searches read those messages as before, and the maintainer indexes
 *   them newest first.
 * The maintainer works in steps of about STEP_MS, each its own transaction, and yields
 * between them, so it never holds the event loop for long.
 */
import { performance } from 'node:perf_hooks';
import type { Db } from './rows.js';
import { searchedText } from './searched-text.js';

/** Message ids per block: 1,000,000 messages are 977 blocks. */
export const BLOCK_SIZE = 1024;

export const blockOf = (id: number): number => Math.floor(id / BLOCK_SIZE);

const STEP_MS = 4;
/** How often an idle maintainer looks for blocks made stale by edits and deletes. */
const IDLE_CHECK_MS = 1000;
/** Messages read per statement while rebuilding or recomputing. */
const CHUNK = 64;

/** ASCII grams have slots in a bitmap (most text is ASCII): 128 one-letter slots, then 128 × 128 pairs. */
const ASCII_SLOTS = 128 + 128 * 128;

function asciiGram(slot: number): string {
  return slot < 128 ? String.fromCharCode(slot) : String.fromCharCode((slot - 128) >> 7, (slot - 128) & 127);
}

/** A set of grams. */
class GramSet {
  private readonly ascii = new Uint8Array(ASCII_SLOTS);
  private readonly other = new Set<string>();

  /** Adds the grams of text; each one not here yet is passed to onNew once. Characters are code points (a lone surrogate is one, as SQLite stores it). */
  add(text: string, onNew: (gram: string) => void): void {
    let previous = -1;
    let previousAscii = -1;
    for (let i = 0; i < text.length; ) {
      const unit = text.charCodeAt(i);
      if (unit < 128) {
        this.addAscii(unit, onNew);
        if (previousAscii >= 0) this.addAscii(128 + (previousAscii << 7) + unit, onNew);
        else if (previous >= 0) this.addOther(text.slice(previous, i + 1), onNew);
        previous = i;
        previousAscii = unit;
        i += 1;
        continue;
      }
      const pair = unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      const end = pair ? i + 2 : i + 1;
      this.addOther(text.slice(i, end), onNew);
      if (previous >= 0) this.addOther(text.slice(previous, end), onNew);
      previous = i;
      previousAscii = -1;
      i = end;
    }
  }

  has(gram: string): boolean {
    const first = gram.charCodeAt(0);
    const second = gram.charCodeAt(1);
    if (gram.length === 1 && first < 128) return this.ascii[first] === 1;
    if (gram.length === 2 && first < 128 && second < 128) return this.ascii[128 + (first << 7) + second] === 1;
    return this.other.has(gram);
  }

  private addAscii(slot: number, onNew: (gram: string) => void): void {
    if (this.ascii[slot] === 1) return;
    this.ascii[slot] = 1;
    onNew(asciiGram(slot));
  }

  private addOther(gram: string, onNew: (gram: string) => void): void {
    if (this.other.has(gram)) return;
    this.other.add(gram);
    onNew(gram);
  }
}

/**
 * A text (a folded message, a gram) as the store wrote it, from its bytes (read with CAST(… AS BLOB)).
 * A string read as TEXT is not always that: V8 writes a lone surrogate as its three-byte
 * form, which SQLite stores and compares as one character, but which reads back as U+FFFD;
 * its grams would then not be the ones searches look up.
 */
export function storedText(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (!text.includes('\ufffd')) return text;
  let decoded = '';
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!;
    const length = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    let point = length === 1 ? lead : lead & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) point = (point << 6) | (bytes[i + k]! & 0x3f);
    // A lone surrogate as the code unit V8 wrote; bytes no LanChat wrote as U+FFFD, as Node reads them.
    if (point >= 0xd800 && point <= 0xdfff) decoded += String.fromCharCode(point);
    else decoded += point <= 0x10ffff ? String.fromCodePoint(point) : '\ufffd';
    i += length;
  }
  return decoded;
}

/** Every one- and two-character gram of text, once each. */
export function gramsOf(text: string): string[] {
  const grams: string[] = [];
  new GramSet().add(text, (gram) => grams.push(gram));
  return grams;
}

interface BlockGrams {
  block: number;
  grams: GramSet;
}

export interface GramIndex {
  /** Within the transaction that stored them: adds the grams of newly stored messages (ids ascending). */
  indexInserted(messages: readonly { id: number; folded: string }[]): void;
  /** After that transaction committed. */
  committed(): void;
  close(): void;
}

/** The writing side, on the store's connection: inserts, and the maintainer. */
export function gramIndex(db: Db): GramIndex {
  const addGram = db.prepare<[string, number]>('INSERT OR IGNORE INTO message_grams (gram, block) VALUES (?, ?)');
  const unindexedBelow = db.prepare<[], number>('SELECT unindexed_below FROM message_grams_state').pluck();
  const setUnindexedBelow = db.prepare<[number]>('UPDATE message_grams_state SET unindexed_below = ?');
  const foldedBetween = db.prepare<[number, number], { id: number; folded: Buffer }>(
    `SELECT m.id, CAST(${searchedText('m')} AS BLOB) AS folded FROM messages m
     WHERE m.id >= ? AND m.id < ? AND ${searchedText('m')} <> '' ORDER BY m.id`,
  );
  const lastMessageId = db.prepare<[], number>('SELECT coalesce(max(id), 0) FROM messages').pluck();
  const staleBlock = db.prepare<[], { block: number; changes: number }>(
    'SELECT block, changes FROM message_grams_stale ORDER BY block DESC LIMIT 1',
  );
  const changesOf = db.prepare<[number], number>('SELECT changes FROM message_grams_stale WHERE block = ?').pluck();
  const forgetStale = db.prepare<[number]>('DELETE FROM message_grams_stale WHERE block = ?');
  const gramsOfBlock = db.prepare<[number], Buffer>('SELECT CAST(gram AS BLOB) FROM message_grams WHERE block = ?').pluck();
  const dropGram = db.prepare<[string, number]>('DELETE FROM message_grams WHERE gram = ? AND block = ?');

  /**
   * The rows of message_grams for the newest block written: inserts skip those. It takes
   * what the transaction under way writes; should that transaction not commit, it is
   * dropped (the rows are then written again as they come, which INSERT OR IGNORE allows).
   */
  let newest: BlockGrams | undefined;
  let uncommitted = false;

  const indexInserted = (messages: readonly { id: number; folded: string }[]): void => {
    if (uncommitted) newest = undefined;
    uncommitted = true;
    for (const { id, folded } of messages) {
      const block = blockOf(id);
      if (newest?.block !== block) newest = { block, grams: new GramSet() };
      newest.grams.add(folded, (gram) => addGram.run(gram, block));
    }
  };

  const committed = (): void => {
    // Inside an outer transaction the rows could still be rolled back: not known yet.
    if (db.inTransaction) newest = undefined;
    uncommitted = false;
  };

  /** Indexes the newest messages not yet indexed, for about STEP_MS. Returns whether any are left. */
  const rebuildStep = (): boolean => {
    if (unindexedBelow.get()! <= 1) return false;
    return rebuildSome();
  };
  const rebuildSome = db.transaction((): boolean => {
    const started = performance.now();
    let below = unindexedBelow.get()!;
    let current: BlockGrams | undefined;
    while (below > 1 && performance.now() - started < STEP_MS) {
      const from = Math.max(1, below - CHUNK);
      for (const { id, folded } of foldedBetween.all(from, below)) {
        const block = blockOf(id);
        if (current?.block !== block) current = { block, grams: new GramSet() };
        current.grams.add(storedText(folded), (gram) => addGram.run(gram, block));
      }
      below = from;
    }
    setUnindexedBelow.run(below);
    return below > 1;
  });

  /**
   * A stale block's grams are recomputed from its messages, read CHUNK ids at a time over
   * several steps; the last step, in one transaction, reads what was stored in the block
   * since, and drops the grams no message holds, unless an edit or delete changed the
   * block meanwhile (then it starts over).
   */
  let recompute: { block: number; changes: number; next: number; grams: GramSet } | undefined;

  const finishRecompute = db.transaction((job: NonNullable<typeof recompute>): void => {
    if (changesOf.get(job.block) !== job.changes) return;
    for (const { folded } of foldedBetween.all(job.next, (job.block + 1) * BLOCK_SIZE)) job.grams.add(storedText(folded), () => {});
    let dropped = false;
    for (const gram of gramsOfBlock.all(job.block).map(storedText)) {
      if (job.grams.has(gram)) continue;
      dropGram.run(gram, job.block);
      dropped = true;
    }
    forgetStale.run(job.block);
    if (dropped && newest?.block === job.block) newest = undefined;
  });

  /** Works on stale blocks for about STEP_MS. Returns whether any are left. */
  const cleanupStep = (): boolean => {
    const started = performance.now();
    while (performance.now() - started < STEP_MS) {
      if (!recompute) {
        const stale = staleBlock.get();
        if (!stale) return false;
        recompute = { ...stale, next: stale.block * BLOCK_SIZE, grams: new GramSet() };
      }
      const job = recompute;
      const end = Math.min((job.block + 1) * BLOCK_SIZE, lastMessageId.get()! + 1);
      if (job.next < end) {
        const upTo = Math.min(end, job.next + CHUNK);
        for (const { folded } of foldedBetween.all(job.next, upTo)) job.grams.add(storedText(folded), () => {});
        job.next = upTo;
        continue;
      }
      recompute = undefined;
      finishRecompute(job);
    }
    return true;
  };

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = (ms: number): void => {
    if (closed) return;
    timer = setTimeout(step, ms);
    // Background work: an idle maintainer must not keep the process alive.
    timer.unref();
  };
  const step = (): void => {
    let more: boolean;
    try {
      more = rebuildStep() || cleanupStep();
    } catch {
      // A step that failed (a full disk, say) rolled back and changed nothing; searches stay
      // right meanwhile (they read what is not indexed, and stale blocks only cost reading).
      recompute = undefined;
      more = false;
    }
    schedule(more ? 0 : IDLE_CHECK_MS);
  };
  schedule(0);

  return {
    indexInserted,
    committed,
    close: () => {
      closed = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The reading side, on a search worker's connection: the id ranges within [from, before)
 * whose messages may hold `gram`, newest first: one per block the index lists it in, and
 * the ids not indexed yet as one range. Run it in the transaction that reads the ranges,
 * so the state and the index are read at the same moment as the messages.
 */
export function gramRanges(db: Db): (gram: string, from: number, before: number) => [number, number][] {
  const unindexedBelow = db.prepare<[], number>('SELECT unindexed_below FROM message_grams_state').pluck();
  const blocksWithGram = db
    .prepare<[string, number, number], number>(
      'SELECT block FROM message_grams WHERE gram = ? AND block >= ? AND block <= ? ORDER BY block DESC',
    )
    .pluck();
  return (gram, from, before) => {
    const below = unindexedBelow.get()!;
    const ranges: [number, number][] = [];
    const indexedFrom = Math.max(from, below);
    if (indexedFrom < before) {
      for (const block of blocksWithGram.all(gram, blockOf(indexedFrom), blockOf(before - 1))) {
        ranges.push([Math.max(indexedFrom, block * BLOCK_SIZE), Math.min(before, (block + 1) * BLOCK_SIZE)]);
      }
    }
    if (from < Math.min(below, before)) ranges.push([from, Math.min(below, before)]);
    return ranges;
  };
}
