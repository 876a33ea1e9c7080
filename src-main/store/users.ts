/** Accounts, login sessions (token hashes), each user's delivery cursor, and purging accounts that never wrote. */
import { lookalikeSkeletons } from '../../src-shared/text.js';
import { row, rows, run, transaction, type Dialect, type Queries } from './query.js';
import type { SessionStore, SilentAccountStore, Store, UserRow } from './types.js';

export type UserStore = Pick<Store, 'createUser' | 'userById' | 'userByKey' | 'userBySkeleton' | 'listUsers' | 'setLastSeen'> &
  SessionStore &
  SilentAccountStore;

/** Aliases double-quoted: PostgreSQL folds unquoted names to lower case. */
export const USER_COLUMNS = `id, name, name_key AS "nameKey", skeleton, password_hash AS "passwordHash",
  created_at AS "createdAt", last_seen AS "lastSeen", status`;

/**
 * An account (u) that never wrote, nor reacted or read anything the event log keeps. Each probe
 * uses an index, or a NOT IN list built once per statement: dm_partners holds both sides
 * of every direct message, so it also tells who received one (messages.to_user_id has no index).
 */
const NEVER_WROTE = `NOT EXISTS (SELECT 1 FROM messages WHERE sender_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM dm_partners WHERE user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM group_members WHERE user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM read_cursors WHERE user_id = u.id)
  AND u.id NOT IN (SELECT owner_id FROM chat_groups)
  AND u.id NOT IN (SELECT user_id FROM reactions)
  AND u.id NOT IN (SELECT inviter_id FROM group_invitations)
  AND u.id NOT IN (SELECT uploader_id FROM files)
  AND u.id NOT IN (SELECT user_id FROM uploads)
  AND NOT EXISTS (SELECT 1 FROM mls_devices WHERE user_id = u.id)`;

export function userQueries(d: Dialect): Queries<UserStore> {
  const batch = d.list('$1', 'bigint');
  /** What goes with a purged account, $1 the batch's ids; the user row last. One statement per table for the batch. */
  const purge = [
    `DELETE FROM sessions WHERE user_id IN ${batch}`,
    `DELETE FROM relations WHERE user_low IN ${batch} OR user_high IN ${batch}`,
    `DELETE FROM daily_usage WHERE user_id IN ${batch}`,
    `DELETE FROM file_usage WHERE user_id IN ${batch}`,
    // Invitations to them, answered or not: an invitation is not something they wrote.
    `DELETE FROM group_invitations WHERE user_id IN ${batch}`,
    // Others' messages that mention them.
    `DELETE FROM mentions WHERE user_id IN ${batch}`,
    `DELETE FROM name_skeletons WHERE user_id IN ${batch}`,
    `DELETE FROM users WHERE id IN ${batch}`,
  ];
  const cursor = function* (text: string, userId: number) {
    return (yield* row<{ upTo: number }>(text, [userId]))?.upTo ?? 0;
  };
  return {
    createUser: (user) =>
      transaction(
        (function* () {
          const created = (yield* rows<UserRow>(
            `INSERT INTO users (name, name_key, skeleton, password_hash, created_at, status) VALUES ($1, $2, $3, $4, $5, $6)
             RETURNING ${USER_COLUMNS}`,
            [user.name, user.nameKey, user.skeleton, user.passwordHash, user.createdAt, user.status ?? 'active'],
          ))[0]!;
          for (const skeleton of new Set([user.skeleton, ...lookalikeSkeletons(user.name)])) {
            yield* run('INSERT INTO name_skeletons (skeleton, user_id) VALUES ($1, $2)', [skeleton, created.id]);
          }
          return created;
        })(),
        `the name "${user.name}" is taken or too close to an existing one`,
      ),
    userById: (id) => row<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]),
    userByKey: (nameKey) => row<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name_key = $1`, [nameKey]),
    userBySkeleton: (skeleton) =>
      row<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM name_skeletons WHERE skeleton = $1)`, [skeleton]),
    listUsers: () => rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE status = 'active' ORDER BY name_key`),
    setLastSeen: (seen) =>
      transaction(
        (function* () {
          for (const { userId, ts, deliveredUpTo } of seen) {
            yield* run(`UPDATE users SET last_seen = $1, delivered_up_to = ${d.greatest}(delivered_up_to, $2) WHERE id = $3`, [
              ts,
              deliveredUpTo,
              userId,
            ]);
          }
        })(),
      ),
    *createSession(tokenHash, userId, createdAt) {
      yield* run('INSERT INTO sessions (token_hash, user_id, created_at) VALUES ($1, $2, $3)', [tokenHash, userId, createdAt]);
    },
    *sessionUserId(tokenHash) {
      return (yield* row<{ userId: number }>('SELECT user_id AS "userId" FROM sessions WHERE token_hash = $1', [tokenHash]))?.userId;
    },
    *deleteSession(tokenHash) {
      yield* run('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
    },
    deliveredCursor: (userId) => cursor('SELECT delivered_up_to AS "upTo" FROM users WHERE id = $1', userId),
    othersDeliveredCursor: (userId) =>
      cursor(`SELECT coalesce(max(delivered_up_to), 0) AS "upTo" FROM users WHERE id <> $1 AND status = 'active'`, userId),
    *setDeliveredCursor(userId, messageId) {
      yield* run('UPDATE users SET delivered_up_to = $1 WHERE id = $2', [messageId, userId]);
    },
    silentAccounts: (afterId, createdBefore, limit) =>
      rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.id > $1 AND u.created_at <= $2 AND ${NEVER_WROTE} ORDER BY u.id LIMIT $3`, [
        afterId,
        createdBefore,
        limit,
      ]),
    deleteSilentAccounts: (userIds) =>
      transaction(
        (function* () {
          // Locked (PostgreSQL): an account that writes meanwhile, on another node, waits for this or this for it.
          const still = yield* rows<{ id: number }>(`SELECT u.id FROM users u WHERE u.id IN ${batch} AND ${NEVER_WROTE} ORDER BY u.id ${d.forUpdate}`, [
            userIds,
          ]);
          const ids = still.map((found) => found.id);
          for (const statement of purge) yield* run(statement, [ids]);
          return ids;
        })(),
      ),
  };
}
