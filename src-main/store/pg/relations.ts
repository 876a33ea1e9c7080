/** Relations between two users, stored once per pair, smaller id first (see ../relations.ts). */
import type { AsyncStore, RelationRow } from '../types.js';
import type { Sql } from './sql.js';

const RELATION_COLUMNS = 'user_low AS "userLow", user_high AS "userHigh", state, requester_id AS "requesterId", since';

export function relationQueries(sql: Sql): Pick<AsyncStore, 'relation' | 'setRelation' | 'deleteRelation' | 'relationsOf'> {
  const pair = (userA: number, userB: number): [number, number] => [Math.min(userA, userB), Math.max(userA, userB)];
  return {
    relation: (userA, userB) =>
      sql.row<RelationRow>(`SELECT ${RELATION_COLUMNS} FROM relations WHERE user_low = $1 AND user_high = $2`, pair(userA, userB)),
    setRelation: async (userA, userB, state, requesterId, since) =>
      (await sql.row<RelationRow>(
        `INSERT INTO relations (user_low, user_high, state, requester_id, since) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_low, user_high) DO UPDATE
           SET state = excluded.state, requester_id = excluded.requester_id, since = excluded.since
         RETURNING ${RELATION_COLUMNS}`,
        [...pair(userA, userB), state, requesterId, since],
      ))!,
    deleteRelation: async (userA, userB) =>
      void (await sql.run('DELETE FROM relations WHERE user_low = $1 AND user_high = $2', pair(userA, userB))),
    relationsOf: (userId) =>
      sql.rows<RelationRow>(
        `SELECT ${RELATION_COLUMNS} FROM relations WHERE user_low = $1 OR user_high = $1 ORDER BY user_low, user_high`,
        [userId],
      ),
  };
}
