/** Relations between two users (chat requests: pending, accepted, declined), stored once per pair. */
import { onlyRow, type Db } from './rows.js';
import type { RelationRow, RelationState, Store } from './types.js';

const RELATION_COLUMNS = 'user_low AS userLow, user_high AS userHigh, state, requester_id AS requesterId, since';

export function relationQueries(db: Db): Pick<Store, 'relation' | 'setRelation' | 'deleteRelation' | 'relationsOf'> {
  const relation = db.prepare<[number, number], RelationRow>(
    `SELECT ${RELATION_COLUMNS} FROM relations WHERE user_low = ? AND user_high = ?`,
  );
  const setRelation = db.prepare<
    { userLow: number; userHigh: number; state: RelationState; requesterId: number; since: number },
    RelationRow
  >(
    `INSERT INTO relations (user_low, user_high, state, requester_id, since)
     VALUES (@userLow, @userHigh, @state, @requesterId, @since)
     ON CONFLICT (user_low, user_high) DO UPDATE
       SET state = excluded.state, requester_id = excluded.requester_id, since = excluded.since
     RETURNING ${RELATION_COLUMNS}`,
  );
  const deleteRelation = db.prepare<[number, number]>('DELETE FROM relations WHERE user_low = ? AND user_high = ?');
  const relationsOf = db.prepare<{ user: number }, RelationRow>(
    `SELECT ${RELATION_COLUMNS} FROM relations WHERE user_low = @user OR user_high = @user
     ORDER BY user_low, user_high`,
  );

  return {
    relation: (userA, userB) => relation.get(Math.min(userA, userB), Math.max(userA, userB)),
    setRelation: (userA, userB, state, requesterId, since) =>
      onlyRow(setRelation.all({ userLow: Math.min(userA, userB), userHigh: Math.max(userA, userB), state, requesterId, since })),
    deleteRelation: (userA, userB) => void deleteRelation.run(Math.min(userA, userB), Math.max(userA, userB)),
    relationsOf: (userId) => relationsOf.all({ user: userId }),
  };
}
