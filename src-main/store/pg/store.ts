/**
 * The store on PostgreSQL (issue 16): the AsyncStore contract with the SQLite store's semantics,
 * from the same queries (../query.ts), run by engine.ts on Sql (sql.ts): on the pool, or inside a
 * changeGroups transaction on its client. Storing messages and search are this engine's own
 * (messages.ts, search.ts).
 *
 * Ordering across nodes: message ids and event-log ids are cursors clients sync by (`after`), so
 * each must become visible in increasing order. A sequence alone does not give that: two nodes
 * draw 7 and 8, 8 commits first, a client syncs past 8 and never sees 7. So every transaction
 * that draws either id takes one transaction-level advisory lock first (lockLog), held to its
 * commit: ids are drawn and committed one transaction at a time, in order. A batch of messages
 * pays for the lock once. Readers take no lock (lastEventId takes it shared, see ../log.ts); a
 * page read by cursor (sync, events) is read in one snapshot, whose visible ids are a prefix.
 */
import pg from 'pg';
import type { AccessStore, AsyncStore, NewGroupEvent, StoredLine } from '../types.js';
import { accessQueries } from '../access.js';
import { conversationQueries, type ConversationChanges } from '../conversation.js';
import { logQueries, type LogStore } from '../log.js';
import { fileQueries, type FileStore } from '../files.js';
import { groupQueries, insertLine, type GroupStore } from '../groups.js';
import { messageQueries } from './messages.js';
import { historyQueries, type HistoryStore } from '../history.js';
import { mlsQueries, type MlsStore } from '../mls.js';
import { relationQueries, type RelationStore } from '../relations.js';
import { searchQuery } from './search.js';
import { messageById } from './rows.js';
import { pgDialect } from '../dialects.js';
import { execute } from './engine.js';
import { lockLog, poolSql, type Sql } from './sql.js';
import { userQueries, type UserStore } from '../users.js';
import { calls, type Query } from '../query.js';

export interface PgStoreOptions {
  /** Caps the bytes of message text (UTF-8) one user may store per UTC day; no cap when absent. */
  maxUserBytesPerDay?: number;
  /** The most connections this node keeps to the database (default 10). */
  maxConnections?: number;
}

/** Every call but close, on `sql`: the pool, or one transaction's client. */
function queries(sql: Sql, pool: pg.Pool, options: PgStoreOptions): Omit<AsyncStore, 'close'> {
  const on = (query: Query<unknown>): Promise<unknown> => execute(sql, query);
  const store: Omit<AsyncStore, 'close'> = {
    ...calls<Pick<AsyncStore, keyof UserStore>>(userQueries(pgDialect), on),
    ...messageQueries(sql, options.maxUserBytesPerDay),
    ...calls<Pick<AsyncStore, keyof HistoryStore>>(historyQueries(pgDialect), on),
    ...searchQuery(pool),
    ...calls<Pick<AsyncStore, keyof RelationStore>>(relationQueries, on),
    ...calls<Pick<AsyncStore, keyof GroupStore>>(groupQueries, on),
    ...calls<Pick<AsyncStore, keyof AccessStore>>(accessQueries, on),
    ...calls<Pick<AsyncStore, keyof ConversationChanges>>(conversationQueries(pgDialect, options.maxUserBytesPerDay), on),
    ...calls<Pick<AsyncStore, keyof LogStore>>(logQueries(pgDialect), on),
    databaseTime: async () => (await sql.row<{ ms: number }>('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms'))!.ms,
    ...calls<Pick<AsyncStore, keyof FileStore>>(fileQueries(pgDialect), on),
    ...calls<Pick<AsyncStore, keyof MlsStore>>(mlsQueries(pgDialect), on),
    /**
     * Nothing to do per message: deleteMessage overwrote the text in its row. The old row
     * version stays in the table's file until VACUUM (autovacuum, or the operator's) reclaims it,
     * and in the write-ahead log until PostgreSQL recycles the segment; unlike SQLite's single
     * WAL file, neither is the store's to rewrite. docs/CLUSTER.md says so.
     */
    purgeDeleted: async () => {},
    /** The log lock first (see above), then `change`, then its lines: all in one transaction. */
    changeGroups: <T>(ts: number, change: (tx: AsyncStore) => Promise<{ result: T; events: NewGroupEvent[] }>) =>
      sql.transaction(async (tx) => {
        await lockLog(tx);
        const { result, events } = await change(bound(tx, pool, options));
        const lines: StoredLine[] = [];
        for (const event of events) {
          const id = await execute(tx, insertLine(event, ts));
          lines.push({ message: (await messageById(tx, id))!, eventId: id });
        }
        return { result, lines };
      }),
  };
  return store;
}

/** The store bound to a transaction: closing it is not the transaction's to do. */
function bound(sql: Sql, pool: pg.Pool, options: PgStoreOptions): AsyncStore {
  return {
    ...queries(sql, pool, options),
    close: () => Promise.reject(new Error('the store of a changeGroups transaction cannot be closed')),
  };
}

export function pgStore(pool: pg.Pool, options: PgStoreOptions): AsyncStore {
  return {
    ...queries(poolSql(pool), pool, options),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
}
