/**
 * How the PostgreSQL store talks to the database: `Sql` runs statements either on the pool
 * (each call its own transaction) or on one client inside a transaction, so the same queries
 * (engine.ts) serve the store and the store bound to a changeGroups transaction.
 *
 * Every statement is a named prepared statement: node-postgres parses and plans it once per
 * connection and afterwards sends only the values.
 */
import pg from 'pg';
import { StoreConflictError } from '../types.js';

export interface Sql {
  rows<Row>(text: string, values?: unknown[]): Promise<Row[]>;
  /** The first row, if any. */
  row<Row>(text: string, values?: unknown[]): Promise<Row | undefined>;
  /** Runs a statement; returns how many rows it changed. */
  run(text: string, values?: unknown[]): Promise<number>;
  /**
   * Runs `work` in one transaction (a savepoint inside one already under way, so a failed
   * part, say a taken name, can be caught without losing the rest of the transaction).
   */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /** Runs `work`'s reads in one snapshot: a read-only REPEATABLE READ transaction, or the transaction under way. */
  snapshot<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
}

/** The statement's name, one per distinct text. */
const names = new Map<string, string>();
function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let name = names.get(text);
  if (name === undefined) {
    name = `lanchat_${names.size + 1}`;
    names.set(text, name);
  }
  return { name, text, values };
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

function runner(target: Queryable, transaction: Sql['transaction'], snapshot: Sql['snapshot']): Sql {
  const query = <Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> =>
    target.query<Row>(prepared(text, values));
  return {
    rows: async <Row>(text: string, values?: unknown[]) => (await query(text, values)).rows as Row[],
    row: async <Row>(text: string, values?: unknown[]) => (await query(text, values)).rows[0] as Row | undefined,
    run: async (text, values) => (await query(text, values)).rowCount ?? 0,
    transaction,
    snapshot,
  };
}

/**
 * Statements on one transaction's client. Once the transaction has ended (`ended()`), they are
 * refused: the client is back in the pool, and a late call would run in someone else's transaction.
 */
function clientSql(client: pg.PoolClient, ended: () => boolean): Sql {
  const live: Queryable = {
    query: ((config: pg.QueryConfig) =>
      ended() ? Promise.reject(new Error('a call on a transaction that has ended')) : client.query(config)) as Queryable['query'],
  };
  let savepoints = 0;
  const sql: Sql = runner(
    live,
    async (work) => {
      const savepoint = `s${++savepoints}`;
      await live.query({ text: `SAVEPOINT ${savepoint}` });
      try {
        const result = await work(sql);
        await live.query({ text: `RELEASE SAVEPOINT ${savepoint}` });
        return result;
      } catch (error) {
        await live.query({ text: `ROLLBACK TO SAVEPOINT ${savepoint}` });
        throw error;
      }
    },
    (work) => work(sql),
  );
  return sql;
}

export function poolSql(pool: pg.Pool): Sql {
  const inTransaction = async <T>(begin: string, work: (sql: Sql) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    let ended = false;
    try {
      await client.query(begin);
      const result = await work(clientSql(client, () => ended));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      ended = true;
      // A connection whose rollback failed is in an unknown state: the pool drops it.
      client.release(broken);
    }
  };
  return runner(
    pool,
    (work) => inTransaction('BEGIN', work),
    (work) => inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', work),
  );
}

/** PostgreSQL's SQLSTATE for a UNIQUE or PRIMARY KEY violation. */
const UNIQUE_VIOLATION = '23505';

/** Runs `write` in its own (sub)transaction, turning a UNIQUE violation into a StoreConflictError with `message`. */
export async function unlessTaken<T>(sql: Sql, message: string, write: (sql: Sql) => Promise<T>): Promise<T> {
  try {
    return await sql.transaction(write);
  } catch (error) {
    if (error instanceof pg.DatabaseError && error.code === UNIQUE_VIOLATION) throw new StoreConflictError(message, { cause: error });
    throw error;
  }
}

/**
 * The one advisory lock that orders the message ids and the event log (see store.ts):
 * a transaction that assigns either takes it first, so ids are assigned in commit order.
 */
export async function lockLog(sql: Sql, shared?: boolean): Promise<void> {
  await sql.run(shared ? 'SELECT pg_advisory_xact_lock_shared($1)' : 'SELECT pg_advisory_xact_lock($1)', [LOG_LOCK]);
}

/** "LNCH", the SQLite store's application id. */
export const LOG_LOCK = 0x4c4e4348;
