/** Accounts, login sessions, delivery cursors and purging accounts that never wrote (see ../users.ts). */
import { lookalikeSkeletons } from '../../../src-shared/text.js';
import type { AsyncStore, LastSeen, UserRow } from '../types.js';
import { USER_COLUMNS } from './rows.js';
import { unlessTaken, type Sql } from './sql.js';

type UserStore = Pick<
  AsyncStore,
  | 'createUser'
  | 'userById'
  | 'userByKey'
  | 'userBySkeleton'
  | 'listUsers'
  | 'setLastSeen'
  | 'createSession'
  | 'sessionUserId'
  | 'deleteSession'
  | 'deliveredCursor'
  | 'othersDeliveredCursor'
  | 'setDeliveredCursor'
  | 'silentAccounts'
  | 'deleteSilentAccounts'
>;

/** An account (u) that never wrote, nor reacted, read, owned, joined, invited or uploaded. */
const NEVER_WROTE = `NOT EXISTS (SELECT 1 FROM messages WHERE sender_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM dm_partners WHERE user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM group_members WHERE user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM read_cursors WHERE user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM chat_groups WHERE owner_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM reactions WHERE user_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM group_invitations WHERE inviter_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM files WHERE uploader_id = u.id)
  AND NOT EXISTS (SELECT 1 FROM uploads WHERE user_id = u.id)`;

/** What goes with a purged account, $1 the batch's ids; the user row last. */
const PURGE = [
  'DELETE FROM sessions WHERE user_id = ANY($1::bigint[])',
  'DELETE FROM relations WHERE user_low = ANY($1::bigint[]) OR user_high = ANY($1::bigint[])',
  'DELETE FROM daily_usage WHERE user_id = ANY($1::bigint[])',
  'DELETE FROM file_usage WHERE user_id = ANY($1::bigint[])',
  // Invitations to them, answered or not: an invitation is not something they wrote.
  'DELETE FROM group_invitations WHERE user_id = ANY($1::bigint[])',
  // Others' messages that mention them.
  'DELETE FROM mentions WHERE user_id = ANY($1::bigint[])',
  'DELETE FROM name_skeletons WHERE user_id = ANY($1::bigint[])',
  'DELETE FROM users WHERE id = ANY($1::bigint[])',
];

export function userQueries(sql: Sql): UserStore {
  return {
    createUser: (user) =>
      unlessTaken(sql, `the name "${user.name}" is taken or too close to an existing one`, async (tx) => {
        const row = (await tx.row<UserRow>(
          `INSERT INTO users (name, name_key, skeleton, password_hash, created_at, status) VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING ${USER_COLUMNS}`,
          [user.name, user.nameKey, user.skeleton, user.passwordHash, user.createdAt, user.status ?? 'active'],
        ))!;
        const skeletons = [...new Set([user.skeleton, ...lookalikeSkeletons(user.name)])];
        await tx.run('INSERT INTO name_skeletons (skeleton, user_id) SELECT unnest($1::text[]), $2', [skeletons, row.id]);
        return row;
      }),
    userById: (id) => sql.row<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]),
    userByKey: (nameKey) => sql.row<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name_key = $1`, [nameKey]),
    userBySkeleton: (skeleton) =>
      sql.row<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM name_skeletons WHERE skeleton = $1)`, [skeleton]),
    listUsers: () => sql.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE status = 'active' ORDER BY name_key`),
    setLastSeen: async (seen) => {
      // One row per user for UPDATE … FROM, which takes one arbitrary match: the last time listed, the highest cursor.
      const byUser = new Map<number, LastSeen>();
      for (const entry of seen) {
        const before = byUser.get(entry.userId);
        byUser.set(entry.userId, { ...entry, deliveredUpTo: Math.max(entry.deliveredUpTo, before?.deliveredUpTo ?? 0) });
      }
      if (byUser.size === 0) return;
      const rows = [...byUser.values()];
      await sql.run(
        `UPDATE users u SET last_seen = s.ts, delivered_up_to = greatest(u.delivered_up_to, s.up_to)
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS s(id, ts, up_to) WHERE u.id = s.id`,
        [rows.map((row) => row.userId), rows.map((row) => row.ts), rows.map((row) => row.deliveredUpTo)],
      );
    },
    createSession: async (tokenHash, userId, createdAt) =>
      void (await sql.run('INSERT INTO sessions (token_hash, user_id, created_at) VALUES ($1, $2, $3)', [tokenHash, userId, createdAt])),
    sessionUserId: async (tokenHash) =>
      (await sql.row<{ userId: number }>('SELECT user_id AS "userId" FROM sessions WHERE token_hash = $1', [tokenHash]))?.userId,
    deleteSession: async (tokenHash) => void (await sql.run('DELETE FROM sessions WHERE token_hash = $1', [tokenHash])),
    deliveredCursor: async (userId) =>
      (await sql.row<{ upTo: number }>('SELECT delivered_up_to AS "upTo" FROM users WHERE id = $1', [userId]))?.upTo ?? 0,
    othersDeliveredCursor: async (userId) =>
      (await sql.row<{ upTo: number }>(
        `SELECT coalesce(max(delivered_up_to), 0) AS "upTo" FROM users WHERE id <> $1 AND status = 'active'`,
        [userId],
      ))!.upTo,
    setDeliveredCursor: async (userId, messageId) =>
      void (await sql.run('UPDATE users SET delivered_up_to = $1 WHERE id = $2', [messageId, userId])),
    silentAccounts: (afterId, createdBefore, limit) =>
      sql.rows<UserRow>(
        `SELECT ${USER_COLUMNS} FROM users u WHERE u.id > $1 AND u.created_at <= $2 AND ${NEVER_WROTE} ORDER BY u.id LIMIT $3`,
        [afterId, createdBefore, limit],
      ),
    deleteSilentAccounts: (userIds) =>
      sql.transaction(async (tx) => {
        // FOR UPDATE: an account that writes meanwhile (on another node) waits for this, or this for it.
        const ids = (
          await tx.rows<{ id: number }>(`SELECT u.id FROM users u WHERE u.id = ANY($1::bigint[]) AND ${NEVER_WROTE} ORDER BY u.id FOR UPDATE`, [
            [...userIds],
          ])
        ).map((row) => row.id);
        for (const statement of PURGE) await tx.run(statement, [ids]);
        return ids;
      }),
  };
}
