/**
 * Queries (../query.ts) on PostgreSQL: each statement awaited in turn on a Sql (the pool, or one
 * transaction's client).
 */
import type { Query, Step } from '../query.js';
import { messagesByIds } from './rows.js';
import { lockLog, unlessTaken, type Sql } from './sql.js';

/** Runs `query` (query.ts) on `sql`, a statement at a time. */
export async function execute<T>(sql: Sql, query: Query<T>): Promise<T> {
  let next = query.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = await answer(sql, next.value);
    } catch (error) {
      next = query.throw(error);
      continue;
    }
    next = query.next(result);
  }
  return next.value;
}

function answer(sql: Sql, step: Step): Promise<unknown> {
  switch (step.kind) {
    case 'rows':
      return sql.rows(step.text, [...step.values]);
    case 'run':
      return sql.run(step.text, [...step.values]);
    case 'transaction': {
      const { body, conflict } = step;
      const work = (tx: Sql): Promise<unknown> => execute(tx, body);
      return conflict === undefined ? sql.transaction(work) : unlessTaken(sql, conflict, work);
    }
    case 'lockLog':
      return lockLog(sql, step.shared);
    case 'snapshot':
      return sql.snapshot((tx) => execute(tx, step.body));
    case 'messages':
      return messagesByIds(sql, [...step.ids]);
  }
}
