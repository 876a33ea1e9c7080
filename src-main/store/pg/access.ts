/** Room access: pending accounts, password changes, bans, room settings and per-user limits (see ../access.ts). */
import type { AccessStore, AsyncStore, BanRow, UserRow } from '../types.js';
import { USER_COLUMNS } from '../rows.js';
import type { Sql } from './sql.js';

export function accessQueries(sql: Sql): Pick<AsyncStore, keyof AccessStore> {
  return {
    pendingUsers: () => sql.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE status = 'pending' ORDER BY created_at, id`),
    approveUser: async (userId) => void (await sql.run(`UPDATE users SET status = 'active' WHERE id = $1`, [userId])),
    // Its name skeletons go with it (ON DELETE CASCADE).
    deletePendingUser: async (userId) => void (await sql.run(`DELETE FROM users WHERE id = $1 AND status = 'pending'`, [userId])),
    setPasswordHash: async (userId, passwordHash) =>
      void (await sql.run('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, userId])),
    deleteSessionsOf: async (userId, keepTokenHash = '') =>
      void (await sql.run('DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2', [userId, keepTokenHash])),
    addBan: async (kind, value, createdAt) =>
      void (await sql.run('INSERT INTO bans (kind, value, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [kind, value, createdAt])),
    removeBan: async (kind, value) => (await sql.run('DELETE FROM bans WHERE kind = $1 AND value = $2', [kind, value])) > 0,
    isBanned: async (kind, value) => (await sql.row('SELECT 1 FROM bans WHERE kind = $1 AND value = $2', [kind, value])) !== undefined,
    bans: () => sql.rows<BanRow>('SELECT kind, value, created_at AS "createdAt" FROM bans ORDER BY kind, value'),
    roomSetting: async (key) => (await sql.row<{ value: string }>('SELECT value FROM room_settings WHERE key = $1', [key]))?.value,
    setRoomSetting: async (key, value) =>
      void (await sql.run(
        'INSERT INTO room_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [key, value],
      )),
    roomSettingsUnder: (prefix) =>
      sql.rows<{ key: string; value: string }>('SELECT key, value FROM room_settings WHERE starts_with(key, $1) ORDER BY key', [prefix]),
    groupsOwnedCount: async (userId) =>
      (await sql.row<{ count: number }>('SELECT count(*) AS count FROM chat_groups WHERE owner_id = $1', [userId]))!.count,
  };
}
