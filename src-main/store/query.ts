/**
 * The store's SQL, stated once for SQLite and PostgreSQL. A query is a generator that yields its
 * statements and is handed their answers (`const user = yield* row<UserRow>(text, [id])`): the
 * SQLite engine (sqlite-engine.ts) runs it to its end within one synchronous call, the PostgreSQL
 * engine (pg/sql.ts) awaits each statement. Statements use $1…$n placeholders and double-quoted
 * aliases, which both engines read alike; the little that differs is the Dialect's.
 */
import type { ChatMessage } from '../../src-shared/protocol/objects.js';

export type Step =
  | { kind: 'rows' | 'run'; text: string; values: readonly unknown[] }
  /** `body` in a transaction of its own (a savepoint inside one); a UNIQUE violation becomes StoreConflictError(`conflict`). */
  | { kind: 'transaction'; body: Query<unknown>; conflict?: string }
  /** The lock that orders message ids and the event log across nodes (pg/store.ts), or `shared` to wait for its holders; SQLite has one writer. */
  | { kind: 'lockLog'; shared?: true }
  /** `body`'s reads all in one state of the database (PostgreSQL: one snapshot; SQLite: one synchronous call sees one). */
  | { kind: 'snapshot'; body: Query<unknown> }
  /** The messages of those ids that exist, in id order, as each engine reads them (rows.ts, pg/rows.ts). */
  | { kind: 'messages'; ids: readonly number[] };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each step's answer has the type its helper below returns
export type Query<T> = Generator<Step, T, any>;

export function* rows<Row>(text: string, values: readonly unknown[] = []): Query<Row[]> {
  return (yield { kind: 'rows', text, values }) as Row[];
}

export function* row<Row>(text: string, values: readonly unknown[] = []): Query<Row | undefined> {
  return (yield* rows<Row>(text, values))[0];
}

/** Runs a statement; returns how many rows it changed. */
export function* run(text: string, values: readonly unknown[] = []): Query<number> {
  return (yield { kind: 'run', text, values }) as number;
}

export function* transaction<T>(body: Query<T>, conflict?: string): Query<T> {
  return (yield { kind: 'transaction', body, ...(conflict === undefined ? {} : { conflict }) }) as T;
}

export function* lockLog(mode?: 'shared'): Query<void> {
  yield mode === 'shared' ? { kind: 'lockLog', shared: true } : { kind: 'lockLog' };
}

export function* snapshot<T>(body: Query<T>): Query<T> {
  return (yield { kind: 'snapshot', body }) as T;
}

export function* messages(ids: readonly number[]): Query<ChatMessage[]> {
  return (yield { kind: 'messages', ids }) as ChatMessage[];
}

/** A store interface written as queries: each call's generator. */
export type Queries<S> = {
  [K in keyof S]: S[K] extends (...args: infer A) => infer R ? (...args: A) => Query<Awaited<R>> : never;
};

/** What the SQL of the two engines does differently. */
export interface Dialect {
  /** A parenthesised list of the values of `param` (an array) of SQL `type`, for `x IN …` or as a table of one column, `value`. */
  list(param: string, type: 'bigint' | 'text'): string;
  /** The larger of two values. */
  greatest: 'max' | 'greatest';
  /** Locks the rows a SELECT reads until the transaction ends (PostgreSQL; SQLite has one writer). */
  forUpdate: '' | 'FOR UPDATE';
  /** The next id of the sequence messages and event log entries share. */
  nextEventId: string;
  /** The last id that sequence handed out (0 for none). */
  lastEventId: string;
  /** A text as stored (PostgreSQL's cannot hold U+0000, pg/text.ts). */
  text(value: string): string;
  /** The folded text search compares against, as stored for a message of `text` (searched-text.ts, pg/text.ts). */
  folded(text: string, folded: string): string;
  /** The JSON array (as text, '[]' when there are no rows) of an aggregate's `value`s in `order`. */
  jsonArray(value: string, order: string): string;
  /** JSON text as a JSON value, to nest in another. */
  json(text: string): string;
  jsonObject: 'json_object' | 'json_build_object';
}

/** Runs each query of `queries` through `execute`, one call of the store per query. */
export function calls<S>(queries: Queries<S>, execute: (query: Query<unknown>) => unknown): S {
  const bound = {} as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, query] of Object.entries(queries as Record<string, (...args: unknown[]) => Query<unknown>>)) {
    bound[name] = (...args) => execute(query(...args));
  }
  return bound as S;
}
