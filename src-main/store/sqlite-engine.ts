/**
 * Queries (query.ts) on SQLite: run to their end within one synchronous call, each statement
 * prepared once per text. So a call of the SQLite store costs no turn of the event loop, and the
 * promise adapter (async-store.ts) hands back promises already settled.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import type { Query, Step } from './query.js';
import type { Db, MessagesByIds } from './rows.js';
import { StoreConflictError } from './types.js';

interface Prepared {
  statement: Database.Statement;
  /** Whether $1…$n each appear once, in order: then bound by position, which better-sqlite3 does fastest. */
  positional: boolean;
}

/** SQLite binds no booleans or arrays: booleans as 0/1, arrays as JSON (read back by json_each, see sqliteDialect.list). */
function bindable(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value)) return JSON.stringify(value);
  return value ?? null;
}

/** Runs queries on `db`; returns the runner. */
export function sqliteEngine(db: Db, messagesByIds: MessagesByIds): <T>(query: Query<T>) => T {
  const prepared = new Map<string, Prepared>();
  const prepare = (text: string): Prepared => {
    let found = prepared.get(text);
    if (found === undefined) {
      const params = [...text.matchAll(/\$(\d+)/g)].map((match) => Number(match[1]));
      const positional = params.every((param, index) => param === index + 1);
      found = { statement: db.prepare(positional ? text.replace(/\$\d+/g, '?') : text), positional };
      prepared.set(text, found);
    }
    return found;
  };
  const bind = (found: Prepared, values: readonly unknown[]): unknown[] => {
    const bound = values.map(bindable);
    return found.positional ? bound : [Object.fromEntries(bound.map((value, index) => [index + 1, value]))];
  };

  const answer = (step: Step): unknown => {
    switch (step.kind) {
      case 'rows': {
        const found = prepare(step.text);
        // all(), never get(): an INSERT … RETURNING outside a transaction commits only when run to its end.
        return found.statement.all(...bind(found, step.values));
      }
      case 'run': {
        const found = prepare(step.text);
        return found.statement.run(...bind(found, step.values)).changes;
      }
      case 'transaction':
        return inTransaction(step.body, step.conflict);
      case 'lockLog':
        return undefined;
      case 'snapshot':
        return execute(step.body);
      case 'messages':
        return messagesByIds(step.ids);
    }
  };

  function execute<T>(query: Query<T>): T {
    let next = query.next();
    while (!next.done) {
      let result: unknown;
      try {
        result = answer(next.value);
      } catch (error) {
        next = query.throw(error);
        continue;
      }
      next = query.next(result);
    }
    return next.value;
  }

  function inTransaction<T>(body: Query<T>, conflict: string | undefined): T {
    try {
      return db.transaction(() => execute(body))();
    } catch (error) {
      const taken = error instanceof Database.SqliteError && /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(error.code);
      if (taken && conflict !== undefined) throw new StoreConflictError(conflict, { cause: error });
      throw error;
    }
  }

  return execute;
}
