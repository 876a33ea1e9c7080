/** Room access: pending accounts, password changes, bans, room settings and per-user limits. */
import { USER_COLUMNS, type Db } from './rows.js';
import type { AccessStore, BanKind, BanRow, UserRow } from './types.js';

export function accessQueries(db: Db): AccessStore {
  const pendingUsers = db.prepare<[], UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE status = 'pending' ORDER BY created_at, id`,
  );
  const approveUser = db.prepare<[number]>("UPDATE users SET status = 'active' WHERE id = ?");
  const deletePendingUser = db.prepare<[number]>("DELETE FROM users WHERE id = ? AND status = 'pending'");
  const setPasswordHash = db.prepare<[string, number]>('UPDATE users SET password_hash = ? WHERE id = ?');
  const deleteSessionsOf = db.prepare<[number, string]>('DELETE FROM sessions WHERE user_id = ? AND token_hash != ?');
  const addBan = db.prepare<[BanKind, string, number]>('INSERT OR IGNORE INTO bans (kind, value, created_at) VALUES (?, ?, ?)');
  const removeBan = db.prepare<[BanKind, string]>('DELETE FROM bans WHERE kind = ? AND value = ?');
  const isBanned = db.prepare<[BanKind, string], number>('SELECT 1 FROM bans WHERE kind = ? AND value = ?').pluck();
  const bans = db.prepare<[], BanRow>('SELECT kind, value, created_at AS createdAt FROM bans ORDER BY kind, value');
  const roomSetting = db.prepare<[string], string>('SELECT value FROM room_settings WHERE key = ?').pluck();
  const setRoomSetting = db.prepare<[string, string]>(
    'INSERT INTO room_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  const roomSettingsUnder = db.prepare<[string], { key: string; value: string }>(
    'SELECT key, value FROM room_settings WHERE instr(key, ?) = 1 ORDER BY key',
  );
  const groupsOwnedCount = db.prepare<[number], number>('SELECT count(*) FROM chat_groups WHERE owner_id = ?').pluck();

  return {
    pendingUsers: () => pendingUsers.all(),
    approveUser: (userId) => void approveUser.run(userId),
    deletePendingUser: (userId) => void deletePendingUser.run(userId),
    setPasswordHash: (userId, passwordHash) => void setPasswordHash.run(passwordHash, userId),
    deleteSessionsOf: (userId, keepTokenHash = '') => void deleteSessionsOf.run(userId, keepTokenHash),
    addBan: (kind, value, createdAt) => void addBan.run(kind, value, createdAt),
    removeBan: (kind, value) => removeBan.run(kind, value).changes > 0,
    isBanned: (kind, value) => isBanned.get(kind, value) !== undefined,
    bans: () => bans.all(),
    roomSetting: (key) => roomSetting.get(key),
    setRoomSetting: (key, value) => void setRoomSetting.run(key, value),
    roomSettingsUnder: (prefix) => roomSettingsUnder.all(prefix),
    groupsOwnedCount: (userId) => groupsOwnedCount.get(userId) ?? 0,
  };
}
