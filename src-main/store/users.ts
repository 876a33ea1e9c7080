/** Accounts, login sessions (token hashes) and each user's delivery cursor. */
import { lookalikeSkeletons } from '../../src-shared/text.js';
import { USER_COLUMNS, onlyRow, unlessTaken, type Db } from './rows.js';
import type { SessionStore, Store, UserRow, UserStatus } from './types.js';

type UserStore = Pick<Store, 'createUser' | 'userById' | 'userByKey' | 'userBySkeleton' | 'listUsers' | 'setLastSeen'> &
  SessionStore;

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
  const setLastSeen = db.prepare<[number, number]>('UPDATE users SET last_seen = ? WHERE id = ?');
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
    setLastSeen: (userId, ts) => void setLastSeen.run(ts, userId),
    createSession: (tokenHash, userId, createdAt) => void createSession.run(tokenHash, userId, createdAt),
    sessionUserId: (tokenHash) => sessionUserId.get(tokenHash),
    deleteSession: (tokenHash) => void deleteSession.run(tokenHash),
    deliveredCursor: (userId) => deliveredCursor.get(userId) ?? 0,
    othersDeliveredCursor: (userId) => othersDeliveredCursor.get(userId) ?? 0,
    setDeliveredCursor: (userId, messageId) => void setDeliveredCursor.run(messageId, userId),
  };
}
