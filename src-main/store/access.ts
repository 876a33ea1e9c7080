/** Room access: pending accounts, password changes, bans, room settings and per-user limits. */
import { row, rows, run, type Queries } from './query.js';
import { USER_COLUMNS } from './users.js';
import type { AccessStore, BanRow, UserRow } from './types.js';

export const accessQueries: Queries<AccessStore> = {
  pendingUsers: () => rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE status = 'pending' ORDER BY created_at, id`),
  *approveUser(userId) {
    yield* run(`UPDATE users SET status = 'active' WHERE id = $1`, [userId]);
  },
  // Its name skeletons go with it (ON DELETE CASCADE).
  *deletePendingUser(userId) {
    yield* run(`DELETE FROM users WHERE id = $1 AND status = 'pending'`, [userId]);
  },
  *setPasswordHash(userId, passwordHash) {
    yield* run('UPDATE users SET password_hash = $1 WHERE id = $2', [passwordHash, userId]);
  },
  *deleteSessionsOf(userId, keepTokenHash = '') {
    yield* run('DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2', [userId, keepTokenHash]);
  },
  *addBan(kind, value, createdAt) {
    yield* run('INSERT INTO bans (kind, value, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [kind, value, createdAt]);
  },
  *removeBan(kind, value) {
    return (yield* run('DELETE FROM bans WHERE kind = $1 AND value = $2', [kind, value])) > 0;
  },
  *isBanned(kind, value) {
    return (yield* row('SELECT 1 AS found FROM bans WHERE kind = $1 AND value = $2', [kind, value])) !== undefined;
  },
  bans: () => rows<BanRow>('SELECT kind, value, created_at AS "createdAt" FROM bans ORDER BY kind, value'),
  *roomSetting(key) {
    return (yield* row<{ value: string }>('SELECT value FROM room_settings WHERE key = $1', [key]))?.value;
  },
  *setRoomSetting(key, value) {
    yield* run('INSERT INTO room_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  },
  roomSettingsUnder: (prefix) =>
    rows<{ key: string; value: string }>('SELECT key, value FROM room_settings WHERE substr(key, 1, length($1)) = $1 ORDER BY key', [prefix]),
  *groupsOwnedCount(userId) {
    return (yield* row<{ count: number }>('SELECT count(*) AS count FROM chat_groups WHERE owner_id = $1', [userId]))!.count;
  },
};
