/**
 * Search: the query is folded like stored text (foldForSearch) and matched as
 * one literal substring of messages.folded, newest first, among the messages
 * the searcher may see.
 *
 * A search that finds little may have to look at every message, which on a
 * large history takes far longer than any request may hold the event loop. So
 * it never runs on the server's thread: search-pool.ts hands it to a worker thread
 * with its own read-only connection (search-worker.ts), which runs searchIds.
 * There it runs in slices: each slice looks only at a range of message ids, from
 * the newest down, and the search yields between slices, so the worker's other
 * searches share it and a cancelled search stops at the next slice. A slice
 * covers FIRST_SPAN ids at first and twice as many after each slice that took
 * under half of SLICE_MS (half as many after one that took longer), so slices
 * stay around SLICE_MS on any machine and history. Searches through the
 * trigram index (search-index.ts, its own file, kept by the indexer thread) ask it
 * in one slice for the messages it has indexed, and read the others (newer than
 * its watermark, or changed since) from the database (see searchIds). Needles of
 * one or two characters read only the blocks of ids the short-needle index lists
 * them in (search-grams.ts).
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { dmConversation } from '../../src-shared/protocol/conversation.js';
import { foldForSearch } from '../../src-shared/fold.js';
import type { PageOf } from './messages.js';
import { NO_UPPER_BOUND, VISIBLE_TO_ME, type Db } from './rows.js';
import { gramRanges } from './search-grams.js';
import { attachedState, attachIndex, indexFileOf, type IndexerHealth } from './search-index.js';
import { SearchPool, startIndexer, type Indexer } from './search-pool.js';
import type { SearchOptions, Store } from './types.js';
import { searchedText } from './searched-text.js';

const SEARCHED = searchedText('m');

const FIRST_SPAN = 2048;
const MIN_SPAN = 256;
const SLICE_MS = 4;
const INDEXER_AFTER_MS = 1000;
/**
 * Messages left unindexed before the indexer thread starts on its own. Below it a search reads them
 * from the database in a few milliseconds; a small room's host then spends no thread, no ~13 MB and no
 * CPU on an index nobody has used (docs/BENCHMARKS.md, "The indexer started on demand (index21)").
 */
export const INDEX_BACKLOG = 5000;

/** Up to `limit` matching ids with from <= id < before, newest first. */
type Slice = (from: number, before: number, limit: number) => number[];

/**
 * FTS5 query for the messages holding every trigram of the needle (the index
 * keeps no positions, so the caller confirms the substring with instr).
 * Each trigram is a quoted string with inner quotes doubled, so operators and
 * syntax in user input (OR, NEAR(, *, -, ^, :) stay plain text. FTS5 ends a
 * string at a NUL, so trigrams holding one are left to instr.
 * Returns undefined when no trigram is left, as below three characters (code
 * points, not UTF-16 units): the trigram index cannot look those up.
 */
function trigramQuery(needle: string): string | undefined {
  const characters = [...needle];
  const trigrams = new Set<string>();
  for (let start = 0; start + 3 <= characters.length; start++) {
    const trigram = characters.slice(start, start + 3).join('');
    if (!trigram.includes('\0')) trigrams.add(trigram);
  }
  if (trigrams.size === 0) return undefined;
  return [...trigrams].map((trigram) => `"${trigram.replaceAll('"', '""')}"`).join(' AND ');
}

/**
 * Runs `slice` from `before` down to `first` until `wanted` ids are found, yielding between
 * slices; throws the signal's reason at the first slice after it is aborted.
 */
async function inSlices(slice: Slice, before: number, wanted: number, signal: AbortSignal, first = 1): Promise<number[]> {
  const found: number[] = [];
  let upper = before;
  let span = FIRST_SPAN;
  for (;;) {
    signal.throwIfAborted();
    const from = Math.max(first, upper - span);
    const started = performance.now();
    found.push(...slice(from, upper, wanted - found.length));
    const took = performance.now() - started;
    upper = from;
    if (upper <= first || found.length >= wanted) return found;
    if (took < SLICE_MS / 2) span *= 2;
    else if (took > SLICE_MS) span = Math.max(MIN_SPAN, Math.floor(span / 2));
    await nextTurn();
  }
}

type TrigramSearch = (me: number, trigrams: string, needle: string, before: number, wanted: number, signal: AbortSignal) => Promise<number[]>;

/** The ids of a search's page (up to limit + 1, newest first): what the worker runs. */
export type SearchIds = (userId: number, options: SearchOptions, signal: AbortSignal) => Promise<number[]>;

export function searchIds(db: Db): SearchIds {
  const lastMessageId = db.prepare<[], number>('SELECT coalesce(max(id), 0) FROM messages').pluck();
  // Each returns up to @limit ids in [@from, @before), newest first.
  /** Needles no index can look up: reads every message of the slice. */
  const byScan = db
    .prepare<{ me: number; needle: string; from: number; before: number; limit: number }, number>(
      `SELECT m.id FROM messages m
       WHERE m.id >= @from AND m.id < @before AND instr(${SEARCHED}, @needle) > 0 AND ${VISIBLE_TO_ME}
       ORDER BY m.id DESC LIMIT @limit`,
    )
    .pluck();
  const scan = (me: number, needle: string): Slice => (from, before, limit) => byScan.all({ me, needle, from, before, limit });
  const rangesWithGram = gramRanges(db);
  const attached = attachIndex(db, indexFileOf(db.name));
  let trigramIndex: TrigramSearch | undefined;
  /** A needle of one or two characters: reads only the blocks that hold it, in one snapshot with the index. */
  const byGram = db.transaction((me: number, needle: string, from: number, before: number, limit: number): number[] => {
    const found: number[] = [];
    for (const [rangeFrom, rangeBefore] of rangesWithGram(needle, from, before)) {
      found.push(...byScan.all({ me, needle, from: rangeFrom, before: rangeBefore, limit: limit - found.length }));
      if (found.length >= limit) break;
    }
    return found;
  });
  /**
   * With a person: reads only the person's messages (messages_by_sender) and the
   * rest of our direct conversation, i.e. mine to them (messages_by_conv),
   * whatever the needle. One person's share of all messages is small, so this
   * beats walking the trigram index's matches for everyone.
   * instr(text, '') is 1: an empty needle keeps all the person wrote (membership lines are
   * not written, and their empty folded text keeps them from every other search).
   */
  const withPerson = db
    .prepare<
      { me: number; needle: string; person: number; dmConv: string; from: number; before: number; limit: number },
      number
    >(
      `SELECT m.id FROM messages m
       WHERE m.sender_id = @person AND m.id >= @from AND m.id < @before
         AND instr(${SEARCHED}, @needle) > 0 AND m.group_event IS NULL AND ${VISIBLE_TO_ME}
       UNION ALL
       SELECT m.id FROM messages m
       WHERE m.conv = @dmConv AND m.id >= @from AND m.id < @before
         AND m.sender_id <> @person AND instr(${SEARCHED}, @needle) > 0
       ORDER BY 1 DESC LIMIT @limit`,
    )
    .pluck();

  /**
   * "good morning" finds messages holding exactly that phrase, not the two words
   * apart. Without a person, needles of one or two characters go through the
   * short-needle index, longer ones with a trigram through the trigram index,
   * and the others (a trigram holding a NUL) read messages newest first.
   */
  return async (userId, options, signal) => {
    const { personId, limit } = options;
    const needle = foldForSearch(options.query).trim();
    if (personId === undefined && needle === '') return [];
    const me = userId;
    const before = Math.min(options.before ?? NO_UPPER_BOUND, lastMessageId.get()! + 1);
    let slice: Slice;
    if (personId !== undefined) {
      const dmConv = dmConversation(userId, personId);
      slice = (from, before, max) => withPerson.all({ me, needle, person: personId, dmConv, from, before, limit: max });
    } else if ([...needle].length <= 2) {
      slice = (from, before, max) => byGram(me, needle, from, before, max);
    } else {
      const trigrams = trigramQuery(needle);
      if (trigrams && attached()) {
        trigramIndex ??= trigramSearch(db, scan);
        try {
          return await trigramIndex(me, trigrams, needle, before, limit + 1, signal);
        } catch (error) {
          // A damaged index file (the indexer reports it to the host's log) must not take search with it.
          if (signal.aborted) throw error;
        }
      }
      // No trigram to look up (one holds a NUL), no index file yet (the indexer has not begun), or one that fails.
      slice = scan(me, needle);
    }
    return inSlices(slice, before, limit + 1, signal);
  };
}

/**
 * A needle with a trigram, on a connection with the index attached: the index's hits among the
 * messages it has indexed, with those changed since its watermark, in one slice (a query of the
 * index costs about as much for a short id range as for all of them: the history bench found
 * slices made word searches 16 times slower), after the messages it has not reached yet, read in
 * slices. The index's state is read before the database, so the database is at least as new:
 * whatever changed after changed_up_to is listed in message_search_changed. The index may have
 * moved on meanwhile: its hits are then still right, and may repeat a message read from the database.
 */
function trigramSearch(db: Db, scan: (me: number, needle: string) => Slice): TrigramSearch {
  const state = attachedState(db);
  const indexed = db
    .prepare<{ me: number; trigrams: string; needle: string; before: number; limit: number }, number>(
      // CROSS JOIN keeps the full-text index as the outer loop, read newest first.
      `SELECT m.id FROM search_index.message_search f CROSS JOIN messages m ON m.id = f.rowid
       WHERE f.message_search MATCH @trigrams AND f.rowid < @before
         AND instr(${SEARCHED}, @needle) > 0 AND ${VISIBLE_TO_ME}
       ORDER BY f.rowid DESC LIMIT @limit`,
    )
    .pluck();
  const changed = db
    .prepare<{ me: number; changedAfter: number; needle: string; before: number; limit: number }, number>(
      `SELECT m.id FROM messages m
       WHERE m.id IN (SELECT message_id FROM message_search_changed WHERE seq > @changedAfter) AND m.id < @before
         AND instr(${SEARCHED}, @needle) > 0 AND ${VISIBLE_TO_ME}
       ORDER BY m.id DESC LIMIT @limit`,
    )
    .pluck();
  return async (me, trigrams, needle, before, wanted, signal) => {
    const { messagesUpTo, changedUpTo } = state();
    const found: number[] = [];
    if (before > messagesUpTo + 1) {
      found.push(...(await inSlices(scan(me, needle), before, wanted, signal, messagesUpTo + 1)));
      if (found.length >= wanted) return found;
    }
    signal.throwIfAborted();
    const below = Math.min(before, messagesUpTo + 1);
    const left = wanted - found.length;
    const hits = new Set([
      ...indexed.all({ me, trigrams, needle, before: below, limit: left }),
      ...changed.all({ me, changedAfter: changedUpTo, needle, before: below, limit: left }),
    ]);
    return found.concat([...hits].sort((a, b) => b - a).slice(0, left));
  };
}

/**
 * The store's search: the ids come from a search worker, the page from the server's own
 * connection. The indexer thread starts at the first search, or once INDEX_BACKLOG messages wait
 * to be indexed: `unindexed` at the opening (then INDEXER_AFTER_MS after it, so as not to slow the
 * start) plus those `stored` since. A store opened for a moment, as in tests, starts none. With
 * `threadAtOpening` the first search thread starts now (StoreOptions.searchThreadAtOpening).
 */
export function searchQueries(
  file: string,
  pageOf: PageOf,
  unindexed: number,
  onIndexHealth: (health: IndexerHealth) => void,
  threadAtOpening: boolean,
): Pick<Store, 'search'> & { stored: (messages: number) => void; closeSearch: () => Promise<void> } {
  const pool = new SearchPool(file);
  if (threadAtOpening) pool.startThread();
  let indexer: Indexer | undefined;
  let closed = false;
  let waiting = unindexed;
  const startIndexing = (): void => {
    if (!closed) indexer ??= startIndexer(file, onIndexHealth);
  };
  const timer = waiting >= INDEX_BACKLOG ? setTimeout(startIndexing, INDEXER_AFTER_MS) : undefined;
  // Background work: it must not keep the process alive.
  timer?.unref();
  return {
    search: async (userId, options) => {
      startIndexing();
      return pageOf(await pool.run(userId, options), options.limit, 'newest first');
    },
    stored: (messages) => {
      waiting += messages;
      if (waiting >= INDEX_BACKLOG && !timer) startIndexing();
    },
    closeSearch: () => {
      closed = true;
      clearTimeout(timer);
      return Promise.all([indexer?.close(), pool.close()]).then(() => undefined);
    },
  };
}
