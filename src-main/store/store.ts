/**
 * The store on SQLite through better-sqlite3: the queries written once for both engines, run by
 * sqlite-engine.ts, and what only SQLite does (storing messages, search,
 * the WAL's purge). Every call but search runs synchronously and has committed when it returns.
 */
import { accessQueries } from './access.js';
import { fileQueries, type FileStore } from './files.js';
import { groupQueries, insertLine, type GroupStore } from './groups.js';
import { conversationQueries, type ConversationChanges } from './conversation.js';
import { logQueries, type LogStore } from './log.js';
import { messageQueries, pageReader } from './messages.js';
import { openDatabase, type StoreOptions } from './open.js';
import { discardStaleIndex, indexFileOf } from './search-index.js';
import { historyQueries, type HistoryStore } from './history.js';
import { mlsQueries, type MlsStore } from './mls.js';
import { relationQueries, type RelationStore } from './relations.js';
import { messageReader, type Db } from './rows.js';
import { gramIndex } from './search-grams.js';
import { searchQueries } from './search.js';
import type { AccessStore, NewGroupEvent, ServerStore, StoredLine } from './types.js';
import { userQueries, type UserStore } from './users.js';
import { calls } from './query.js';
import { sqliteDialect } from './dialects.js';
import { sqliteEngine } from './sqlite-engine.js';
import { WalPurger } from './wal-purge.js';

export { StoreOpenError, type StoreOptions } from './open.js';

export function openStore(file: string, options: StoreOptions = {}): ServerStore {
  return openStoreWithDatabase(file, options).store;
}

/** The store with its connection, whose transactions the promise adapter drives (async-store.ts). */
export function openStoreWithDatabase(file: string, options: StoreOptions = {}): { store: ServerStore; db: Db } {
  let indexedUpTo = 0;
  const db = openDatabase(file, options, (found) => (indexedUpTo = discardStaleIndex(found, indexFileOf(file))));
  const messagesByIds = messageReader(db);
  const pageOf = pageReader(messagesByIds);
  const grams = gramIndex(db);
  const walPurger = new WalPurger(db, file);
  const execute = sqliteEngine(db, messagesByIds);
  const messages = messageQueries(db, execute, grams, options.maxUserBytesPerDay);
  const history = calls<HistoryStore>(historyQueries(sqliteDialect), execute);
  // Last: it may start the indexer's timer, which nothing would stop if an opening step after it threw.
  const { search, stored, closeSearch } = searchQueries(
    file,
    pageOf,
    history.lastMessageId() - indexedUpTo,
    options.onIndexHealth ?? (() => undefined),
    options.searchThreadAtOpening === true,
  );
  /** The first close's: closing again waits for the same threads. */
  let closed: Promise<void> | undefined;
  const users = calls<UserStore>(userQueries(sqliteDialect), execute);
  const store: ServerStore = {
    close: () => {
      if (closed) return closed;
      const threads = [closeSearch(), walPurger.close()];
      grams.close();
      // The log copied in and emptied now: closed later, a thread's connection left it behind, with up to
      // wal_autocheckpoint's worth in it (messages.test.ts, "grows by little more than the text sent").
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (error) {
        // A transaction still open here: closing undoes it and the next opening recovers the log.
        if (!db.inTransaction) throw error;
      }
      db.close();
      closed = Promise.all(threads).then(() => undefined);
      return closed;
    },
    ...users,
    deleteSilentAccounts: (userIds) => {
      // Checking the users' foreign keys would scan messages once per account (to_user_id has no
      // index); NEVER_WROTE has made sure, by index, that nothing but the rows deleted here refers to them.
      db.pragma('foreign_keys = OFF');
      try {
        return users.deleteSilentAccounts(userIds);
      } finally {
        db.pragma('foreign_keys = ON');
      }
    },
    ...messages,
    ...history,
    insertMessages: (batch) => {
      const results = messages.insertMessages(batch);
      stored(batch.length);
      return results;
    },
    search,
    ...calls<RelationStore>(relationQueries, execute),
    ...calls<GroupStore>(groupQueries, execute),
    changeGroups: db.transaction((ts: number, change: () => { result: unknown; events: NewGroupEvent[] }) => {
      const { result, events } = change();
      const lines = events.map((event): StoredLine => {
        const id = execute(insertLine(event, ts));
        return { message: messagesByIds([id])[0]!, eventId: id };
      });
      return { result, lines };
    }) as ServerStore['changeGroups'],
    ...calls<AccessStore>(accessQueries, execute),
    ...calls<ConversationChanges>(conversationQueries(sqliteDialect, options.maxUserBytesPerDay), execute),
    ...calls<LogStore>(logQueries(sqliteDialect), execute),
    // The file is on this machine: its clock is the database's.
    databaseTime: () => Date.now(),
    ...calls<FileStore>(fileQueries(sqliteDialect), execute),
    ...calls<MlsStore>(mlsQueries(sqliteDialect), execute),
    purgeDeleted: () => walPurger.purge(),
  };
  return { store, db };
}
