/** Relations between two users (chat requests: pending, accepted, declined), stored once per pair, smaller id first. */
import { row, rows, run, type Queries } from './query.js';
import type { RelationRow, Store } from './types.js';

export type RelationStore = Pick<Store, 'relation' | 'setRelation' | 'deleteRelation' | 'relationsOf'>;

const RELATION_COLUMNS = 'user_low AS "userLow", user_high AS "userHigh", state, requester_id AS "requesterId", since';

const pair = (userA: number, userB: number): [number, number] => [Math.min(userA, userB), Math.max(userA, userB)];

export const relationQueries: Queries<RelationStore> = {
  relation: (userA, userB) => row<RelationRow>(`SELECT ${RELATION_COLUMNS} FROM relations WHERE user_low = $1 AND user_high = $2`, pair(userA, userB)),
  *setRelation(userA, userB, state, requesterId, since) {
    const stored = yield* rows<RelationRow>(
      `INSERT INTO relations (user_low, user_high, state, requester_id, since) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_low, user_high) DO UPDATE
         SET state = excluded.state, requester_id = excluded.requester_id, since = excluded.since
       RETURNING ${RELATION_COLUMNS}`,
      [...pair(userA, userB), state, requesterId, since],
    );
    return stored[0]!;
  },
  *deleteRelation(userA, userB) {
    yield* run('DELETE FROM relations WHERE user_low = $1 AND user_high = $2', pair(userA, userB));
  },
  relationsOf: (userId) =>
    rows<RelationRow>(`SELECT ${RELATION_COLUMNS} FROM relations WHERE user_low = $1 OR user_high = $1 ORDER BY user_low, user_high`, [userId]),
};
