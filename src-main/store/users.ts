/** Accounts, login sessions (token hashes), each user's delivery cursor, and purging accounts that never wrote. */
import { lookalikeSkeletons } from '../../src-shared/text.js';
import { USER_COLUMNS, onlyRow, unlessTaken, type Db } from './rows.js';
import type { LastSeen, SessionStore, SilentAccountStore, Store, UserRow, UserStatus } from './types.js';

type UserStore = Pick<Store, 'createUser' | 'userById' | 'userByKey' | 'userBySkeleton' | 'listUsers' | 'setLastSeen'> &
  SessionStore &
  SilentAccountStore;

/**
 * An account (u) that never wrote, nor reacted or read anything the event log keeps. Each probe
 * uses an index, or a NOT IN list SQLite builds once per statement: dm_partners holds both sides
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
  AND u.id NOT IN (SELECT user_id FROM uploads)`;

/** The ids of a batch, as a JSON array for json_each: one statement per table for the whole batch. */
const IN_BATCH = '(SELECT value FROM json_each(@ids))';

export function userQueries(db: Db): UserStore {
  const insertUser = db.prepare<
    { name: string; nameKey: string; skeleton: string; passwordHash: string; createdAt: number; status: UserStatus },
    UserRow
  >(`INSERT INTO users (name, name_key, skeleton, password_hash, created_at, status)
     VALUES (@name, @nameKey, @skeleton, @passwordHash, @createdAt, @status)
     RETURNING ${USER_COLUMNS}`);
  const userById = db.prepare<[number], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`);
  const userByKey = db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name_key = ?`);
  const userBySkeleton = db.prepare<[string], UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM name_skeletons WHERE skeleton = ?)`,
  );
  const addSkeleton = db.prepare<[string, number]>('INSERT INTO name_skeletons (skeleton, user_id) VALUES (?, ?)');
  const listUsers = db.prepare<[], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE status = 'active' ORDER BY name_key`);
  const setLastSeen = db.prepare<[number, number, number]>(
    'UPDATE users SET last_seen = ?, delivered_up_to = max(delivered_up_to, ?) WHERE id = ?',
  );
  const setLastSeenOfAll = db.transaction((seen: readonly LastSeen[]) => {
    for (const { userId, ts, deliveredUpTo } of seen) setLastSeen.run(ts, deliveredUpTo, userId);
  });
  const createSession = db.prepare<[string, number, number]>(
    'INSERT INTO sessions (token_hash, user_id, created_at) VALUES (?, ?, ?)',
  );
  const sessionUserId = db.prepare<[string], number>('SELECT user_id FROM sessions WHERE token_hash = ?').pluck();
  const deleteSession = db.prepare<[string]>('DELETE FROM sessions WHERE token_hash = ?');
  const deliveredCursor = db.prepare<[number], number>('SELECT delivered_up_to FROM users WHERE id = ?').pluck();
  const othersDeliveredCursor = db
    .prepare<[number], number>("SELECT COALESCE(MAX(delivered_up_to), 0) FROM users WHERE id != ? AND status = 'active'")
    .pluck();
  const setDeliveredCursor = db.prepare<[number, number]>('UPDATE users SET delivered_up_to = ? WHERE id = ?');

  const silentAccounts = db.prepare<{ afterId: number; createdBefore: number; limit: number }, UserRow>(
    `SELECT ${USER_COLUMNS} FROM users u
     WHERE u.id > @afterId AND u.created_at <= @createdBefore AND ${NEVER_WROTE}
     ORDER BY u.id LIMIT @limit`,
  );
  const stillSilent = db.prepare<{ ids: string }, number>(`SELECT u.id FROM users u WHERE u.id IN ${IN_BATCH} AND ${NEVER_WROTE}`).pluck();
  // sessions.user_id has no index: one statement for the batch scans the table once.
  const purge = [
    `DELETE FROM sessions WHERE user_id IN ${IN_BATCH}`,
    `DELETE FROM relations WHERE user_low IN ${IN_BATCH} OR user_high IN ${IN_BATCH}`,
    `DELETE FROM daily_usage WHERE user_id IN ${IN_BATCH}`,
    `DELETE FROM file_usage WHERE user_id IN ${IN_BATCH}`,
    // Invitations to them, answered or not: an invitation is not something they wrote.
    `DELETE FROM group_invitations WHERE user_id IN ${IN_BATCH}`,
    // Others' messages that mention them.
    `DELETE FROM mentions WHERE user_id IN ${IN_BATCH}`,
    `DELETE FROM name_skeletons WHERE user_id IN ${IN_BATCH}`,
    `DELETE FROM users WHERE id IN ${IN_BATCH}`,
  ].map((sql) => db.prepare<{ ids: string }>(sql));
  const purgeBatch = db.transaction((userIds: readonly number[]) => {
    const ids = stillSilent.all({ ids: JSON.stringify(userIds) });
    const batch = { ids: JSON.stringify(ids) };
    for (const statement of purge) statement.run(batch);
    return ids;
  });

  const insertWithSkeletons = db.transaction((user: Parameters<UserStore['createUser']>[0]) => {
    const row = onlyRow(insertUser.all({ ...user, status: user.status ?? 'active' }));
    for (const skeleton of new Set([user.skeleton, ...lookalikeSkeletons(user.name)])) addSkeleton.run(skeleton, row.id);
    return row;
  });

  return {
    createUser: (user) =>
      unlessTaken(`the name "${user.name}" is taken or too close to an existing one`, () => insertWithSkeletons(user)),
    userById: (id) => userById.get(id),
    userByKey: (nameKey) => userByKey.get(nameKey),
    userBySkeleton: (skeleton) => userBySkeleton.get(skeleton),
    listUsers: () => listUsers.all(),
    setLastSeen: (seen) => setLastSeenOfAll(seen),
    createSession: (tokenHash, userId, createdAt) => void createSession.run(tokenHash, userId, createdAt),
    sessionUserId: (tokenHash) => sessionUserId.get(tokenHash),
    deleteSession: (tokenHash) => void deleteSession.run(tokenHash),
    deliveredCursor: (userId) => deliveredCursor.get(userId) ?? 0,
    othersDeliveredCursor: (userId) => othersDeliveredCursor.get(userId) ?? 0,
    setDeliveredCursor: (userId, messageId) => void setDeliveredCursor.run(messageId, userId),
    silentAccounts: (afterId, createdBefore, limit) => silentAccounts.all({ afterId, createdBefore, limit }),
    deleteSilentAccounts: (userIds) => {
      // Checking the users' foreign keys would scan messages once per account (to_user_id has no
      // index); NEVER_WROTE has made sure, by index, that nothing but the rows deleted here refers to them.
      db.pragma('foreign_keys = OFF');
      try {
        return purgeBatch(userIds);
      } finally {
        db.pragma('foreign_keys = ON');
      }
    },
  };
}
