/**
 * The trigram index, off the send path: an FTS5 index of messages.folded in its own SQLite file
 * beside the database (indexFileOf), written only by the indexer, a worker thread
 * (search-worker.ts runs runIndexer). The server's commits never write it and never wait for it;
 * FTS5's merges run there. It is derived data: missing, damaged or out of step with the database
 * (discardStaleIndex), it is deleted and built again from the messages, newest state read.
 *
 * The indexer follows the database from watermarks it keeps in the index file, in bounded
 * batches, each one read transaction on the database and one write transaction on the index:
 * - messages_up_to: every message with an id up to it is indexed (new messages, in id order);
 * - changed_up_to: every entry of message_search_changed up to it is applied. Migration 015's
 *   triggers add an entry whenever a message's folded text changes (an edit, a delete) or the
 *   message goes (with its group): the message is indexed again with its text as it then is, or
 *   dropped.
 * So a search stays exactly right at every moment (search.ts): it takes the index's hits for the
 * messages up to messages_up_to, reads the messages above it and those changed after
 * changed_up_to from the database itself, and confirms every hit with instr on messages.folded.
 */
import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import { keepPrivate } from './data-folder.js';
import type { Db } from './rows.js';
import { searchedText } from './searched-text.js';

/** The index file of the database `file`. */
export const indexFileOf = (file: string): string => `${file}-search`;

/** Raised in the index file's user_version whenever its schema or meaning changes: an older file is rebuilt. */
const INDEX_VERSION = 1;

/**
 * Message ids, changes or deletions per batch (one transaction of the indexer's): FTS5 writes a segment per
 * transaction, so larger batches make fewer segments to merge; 10,000 messages are tens of milliseconds.
 */
const BATCH = 10_000;
/**
 * How often a caught-up indexer looks for new work: each look is a short read transaction on both
 * files, CPU the host would otherwise not spend; searches are right whatever the index has reached.
 */
const IDLE_MS = 250;

export interface IndexState {
  messagesUpTo: number;
  changedUpTo: number;
}

const STATE_SELECT = 'SELECT messages_up_to AS messagesUpTo, changed_up_to AS changedUpTo FROM search_state';

/** The database's AUTOINCREMENT counter of `table`: an id it has handed out is never handed out again. */
const COUNTER = (table: string, schema = 'main'): string => `SELECT coalesce(max(seq), 0) FROM ${schema}.sqlite_sequence WHERE name = '${table}'`;

const SCHEMA = `
  -- Contentless: the text stays in the database; contentless_delete lets the indexer drop a
  -- message by its id alone. detail = none keeps which messages hold each trigram, not where:
  -- a search asks for all its trigrams and confirms the substring with instr on messages.folded.
  -- Text is folded before it gets here, so the tokenizer need not fold case (case_sensitive 1).
  -- A dropped message leaves a tombstone: its trigrams stay in the pages until a merge rewrites
  -- them (FTS5's secure-delete needs the dropped text, which a contentless index does not have).
  CREATE VIRTUAL TABLE message_search USING fts5 (
    folded,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1',
    detail = none
  );
  -- store_key: the database's search_index_key (migration 015); changed_seen: the counter of
  -- message_search_changed in the snapshot of the last batch, which may have indexed text newer
  -- than changed_up_to says (see discardStaleIndex).
  CREATE TABLE search_state (
    store_key TEXT NOT NULL,
    messages_up_to INTEGER NOT NULL,
    changed_up_to INTEGER NOT NULL,
    changed_seen INTEGER NOT NULL
) STRICT;
`;

function removeIndexFile(indexFile: string): void {
  // The log first: an index file never stands beside a log that is not its own.
  for (const path of [`${indexFile}-wal`, `${indexFile}-shm`, indexFile]) rmSync(path, { force: true });
}

/**
 * At the store's opening, on the server's connection, before its migrations (whose changes to
 * the messages would hide how far the index had read): deletes an index file that cannot be used
 * (not an index, damaged, another version, another database's, or one that read a newer state
 * than the database has, as after restoring an older copy of it), and forgets the changes the
 * index has applied (all of them when it is deleted: a new one starts from the messages as they
 * are). Reads a few rows; runs before any indexer or search starts. Returns the messages_up_to of
 * the index it kept, 0 when there is none.
 */
export function discardStaleIndex(db: Db, indexFile: string): number {
  // A database from before migration 015 has no index of its own yet.
  if (db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'search_index_key'").pluck().get() === 0) {
    removeIndexFile(indexFile);
    return 0;
  }
  let seen: { storeKey: string; messagesUpTo: number; changedUpTo: number; changedSeen: number } | undefined;
  try {
    const index = new Database(indexFile, { readonly: true, fileMustExist: true });
    try {
      if ((index.pragma('user_version', { simple: true }) as number) === INDEX_VERSION) {
        seen = index
          .prepare<[], NonNullable<typeof seen>>(
            'SELECT store_key AS storeKey, messages_up_to AS messagesUpTo, changed_up_to AS changedUpTo, changed_seen AS changedSeen FROM search_state',
          )
          .get();
      }
    } finally {
      index.close();
    }
  } catch {
    seen = undefined;
  }
  // The index read nothing the database does not have: no message above its counter, no change after.
  const counter = (table: string): number => db.prepare<[], number>(COUNTER(table)).pluck().get()!;
  const storeKey = db.prepare<[], string>('SELECT key FROM search_index_key').pluck().get();
  const forget = db.prepare<[number]>('DELETE FROM message_search_changed WHERE seq <= ?');
  if (seen && seen.storeKey === storeKey && seen.messagesUpTo <= counter('messages') && seen.changedSeen <= counter('message_search_changed')) {
    forget.run(seen.changedUpTo);
    return seen.messagesUpTo;
  }
  removeIndexFile(indexFile);
  forget.run(Number.MAX_SAFE_INTEGER);
  return 0;
}

/**
 * The index file for writing, with the database attached as `store` (read only by the indexer),
 * created (state: nothing indexed, changes followed from now on) when missing. Reading the database
 * on the index's connection lets one statement index a batch of messages, and one transaction read
 * the database in one snapshot while it writes the index.
 */
function openIndexForWriting(file: string): Db {
  if (!existsSync(file)) throw new Error(`no database at ${file}`);
  // It lists which trigrams each message holds: as private as the messages.
  keepPrivate(indexFileOf(file));
  const index = new Database(indexFileOf(file));
  try {
    index.pragma('journal_mode = WAL');
    // Derived data: a commit here needs no fsync. A power cut may lose its last batches (the index is then
    // behind, which searches allow) or the database's (the index is then ahead, and rebuilt at the next opening).
    index.pragma('synchronous = NORMAL');
    index.pragma('secure_delete = ON');
    index.pragma('busy_timeout = 5000');
    index.prepare('ATTACH DATABASE ? AS store').run(file);
    if (index.prepare("SELECT count(*) FROM main.sqlite_schema WHERE name = 'search_state'").pluck().get() === 0) {
      index.transaction(() => {
        index.exec(SCHEMA);
        // In the snapshot the transaction reads: changes and deletions after it are followed, messages indexed from the first.
        const changed = COUNTER('message_search_changed', 'store');
        index.exec(`INSERT INTO search_state SELECT (SELECT key FROM store.search_index_key), 0, (${changed}), (${changed})`);
        index.pragma(`user_version = ${INDEX_VERSION}`);
      })();
    }
    // The store's opening checked the file; one put in its place since (by a later opening) is not followed.
    if (index.prepare('SELECT store_key = (SELECT key FROM store.search_index_key) FROM search_state').pluck().get() !== 1) {
      throw new Error('the index file is not this database\'s');
    }
    return index;
  } catch (error) {
    index.close();
    throw error;
  }
}

/** One batch of the indexer's work, one transaction; returns whether more is waiting. */
function indexerStep(index: Db): () => boolean {
  const state = index.prepare<[], IndexState>(STATE_SELECT);
  const saveState = index.prepare<IndexState>(
    `UPDATE search_state SET messages_up_to = @messagesUpTo, changed_up_to = @changedUpTo,
       changed_seen = (${COUNTER('message_search_changed', 'store')})`,
  );
  const batchEnd = index.prepare<[number], number>('SELECT min(coalesce(max(id), 0), ?) FROM store.messages').pluck();
  /** Messages without text (membership lines, deleted messages) are not indexed. */
  const addMessages = index.prepare<[number, number]>(
    `INSERT INTO message_search (rowid, folded) SELECT m.id, ${searchedText('m')} FROM store.messages m
     WHERE m.id > ? AND m.id <= ? AND ${searchedText('m')} <> ''`,
  );
  const add = index.prepare<[number, string]>('INSERT INTO message_search (rowid, folded) VALUES (?, ?)');
  const drop = index.prepare<[number]>('DELETE FROM message_search WHERE rowid = ?');
  const changes = index.prepare<[number, number], { seq: number; messageId: number; folded: string | null }>(
    `SELECT c.seq, c.message_id AS messageId, ${searchedText('m')} AS folded FROM store.message_search_changed c LEFT JOIN store.messages m ON m.id = c.message_id
     WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
  );
  return index.transaction((): boolean => {
    const at = state.get()!;
    const changed = changes.all(at.changedUpTo, BATCH);
    // Each message once, in id order: FTS5 starts a new segment whenever a rowid is lower than the
    // last one written. A message above messages_up_to is indexed with its text when the messages reach it.
    const texts = new Map<number, string | null>();
    for (const { messageId, folded } of changed) if (messageId <= at.messagesUpTo) texts.set(messageId, folded);
    for (const [messageId, folded] of [...texts].sort(([a], [b]) => a - b)) {
      drop.run(messageId);
      if (folded) add.run(messageId, folded);
    }
    const messagesUpTo = Math.max(at.messagesUpTo, batchEnd.get(at.messagesUpTo + BATCH)!);
    if (messagesUpTo > at.messagesUpTo) addMessages.run(at.messagesUpTo, messagesUpTo);
    const changedUpTo = changed.at(-1)?.seq ?? at.changedUpTo;
    if (messagesUpTo !== at.messagesUpTo || changedUpTo !== at.changedUpTo) saveState.run({ messagesUpTo, changedUpTo });
    return messagesUpTo === at.messagesUpTo + BATCH || changed.length === BATCH;
  });
}

/** What the indexer tells its store about its batches: they began to fail (and why), or succeed again. */
export type IndexerHealth = { failing: string } | { recovered: true };

/**
 * The indexer, on a worker thread: indexes in batches, yielding between them, and looks for new
 * work every IDLE_MS once caught up. A batch that failed (a full disk, a damaged index) changed
 * nothing and is tried again then; searches stay right meanwhile, only slower as more messages wait.
 * `report` hears when batches begin to fail (again, if the reason changes) and when one succeeds
 * after failures, not every attempt. Returns its stop (after the batch under way), or undefined
 * when the files cannot be opened (the store closed and its folder went before the thread started,
 * say): there is then no index, and searches read the messages.
 */
export function runIndexer(file: string, report: (health: IndexerHealth) => void): (() => void) | undefined {
  let index: Db;
  let step: () => boolean;
  try {
    index = openIndexForWriting(file);
    step = indexerStep(index);
  } catch {
    return undefined;
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failing: string | null = null;
  const loop = (): void => {
    if (stopped) return;
    let more = false;
    try {
      more = step();
      if (failing !== null) report({ recovered: true });
      failing = null;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (reason !== failing) report({ failing: reason });
      failing = reason;
    }
    timer = setTimeout(loop, more ? 0 : IDLE_MS);
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
    index.close();
  };
}

/**
 * The reading side, on a search worker's read-only connection: attaches the index file as
 * `search_index` once it exists with its schema. Returns whether it is attached.
 */
export function attachIndex(db: Db, indexFile: string): () => boolean {
  let attached = false;
  return () => {
    if (attached) return true;
    try {
      db.prepare('ATTACH DATABASE ? AS search_index').run(indexFile);
    } catch {
      return false;
    }
    try {
      attached =
        db.prepare("SELECT count(*) FROM search_index.sqlite_schema WHERE name = 'search_state'").pluck().get() === 1 &&
        db.pragma('search_index.user_version', { simple: true }) === INDEX_VERSION;
    } catch {
      attached = false;
    }
    if (!attached) db.exec('DETACH DATABASE search_index');
    return attached;
  };
}

/** The index's state as seen by an attached connection. */
export const attachedState = (db: Db): (() => IndexState) => {
  const state = db.prepare<[], IndexState>(STATE_SELECT.replace('search_state', 'search_index.search_state'));
  return () => state.get()!;
};

/**
 * Whether the index has reached everything committed in the database `file` (read on connections
 * of its own; for tests and the bench, which wait for the indexer).
 */
export function indexCaughtUp(file: string): boolean {
  const main = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const attached = attachIndex(main, indexFileOf(file));
    if (!attached()) return false;
    // The index's state first: the database is then at least as new.
    const at = attachedState(main)();
    const last = main
      .prepare<[], IndexState>(
        `SELECT (SELECT coalesce(max(id), 0) FROM messages) AS messagesUpTo,
           (SELECT coalesce(max(seq), 0) FROM message_search_changed) AS changedUpTo`,
      )
      .get()!;
    return at.messagesUpTo >= last.messagesUpTo && at.changedUpTo >= last.changedUpTo;
  } finally {
    main.close();
  }
}
