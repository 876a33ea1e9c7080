/** Files (docs/PROTOCOL.md §18): uploads under way, finished files and their contents (see ../files.ts). */
import type { FileRow, FileStore, Reservations, StoredUpload } from '../files.js';
import type { AsyncStore } from '../types.js';
import type { Sql } from './sql.js';

const DAY_MS = 86_400_000;

const FILE_SELECT = `
  SELECT f.id, f.sha256, f.name, f.size, f.type, f.uploader_id AS "uploaderId", f.message_id AS "messageId",
    m.conv, f.created_at AS "createdAt"
  FROM files f LEFT JOIN messages m ON m.id = f.message_id`;
const UPLOAD_SELECT = 'SELECT id, user_id AS "userId", name, size, sha256, created_at AS "createdAt", received FROM uploads';

export function fileQueries(sql: Sql): Pick<AsyncStore, keyof FileStore> {
  return {
    createUpload: (upload) =>
      sql.transaction(async (tx) => {
        await tx.run('INSERT INTO uploads (id, user_id, name, size, sha256, created_at, active_at) VALUES ($1, $2, $3, $4, $5, $6, $6)', [
          upload.id,
          upload.userId,
          upload.name,
          upload.size,
          upload.sha256,
          upload.createdAt,
        ]);
        await tx.run(
          `INSERT INTO file_usage (user_id, day, bytes) VALUES ($1, $2, $3)
           ON CONFLICT (user_id, day) DO UPDATE SET bytes = file_usage.bytes + excluded.bytes`,
          [upload.userId, Math.floor(upload.createdAt / DAY_MS), upload.size],
        );
      }),
    uploadById: (id) => sql.row<StoredUpload>(`${UPLOAD_SELECT} WHERE id = $1`, [id]),
    deleteUpload: async (id) => void (await sql.run('DELETE FROM uploads WHERE id = $1', [id])),
    reservationsOf: async (userId) =>
      (await sql.row<Reservations>('SELECT count(*)::bigint AS count, coalesce(sum(size), 0)::bigint AS bytes FROM uploads WHERE user_id = $1', [userId]))!,
    touchUploads: async (uploads, at) => {
      if (uploads.length === 0) return;
      await sql.run(
        `UPDATE uploads SET received = t.received, active_at = $3
         FROM unnest($1::text[], $2::bigint[]) AS t (id, received) WHERE uploads.id = t.id`,
        [uploads.map((upload) => upload.id), uploads.map((upload) => upload.received), at],
      );
    },
    completeUpload: (id, type) =>
      sql.transaction(async (tx) => {
        const upload = await tx.row<StoredUpload>(`${UPLOAD_SELECT} WHERE id = $1 FOR UPDATE`, [id]);
        if (!upload) return undefined;
        await tx.run('INSERT INTO blobs (sha256, size) VALUES ($1, $2) ON CONFLICT DO NOTHING', [upload.sha256, upload.size]);
        await tx.run('DELETE FROM orphan_blobs WHERE sha256 = $1', [upload.sha256]);
        await tx.run('INSERT INTO files (id, sha256, name, size, type, uploader_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          id,
          upload.sha256,
          upload.name,
          upload.size,
          type,
          upload.userId,
          upload.createdAt,
        ]);
        await tx.run('DELETE FROM uploads WHERE id = $1', [id]);
        return (await tx.row<FileRow>(`${FILE_SELECT} WHERE f.id = $1`, [id]))!;
      }),
    hasBlob: async (sha256) => (await sql.row('SELECT 1 FROM blobs WHERE sha256 = $1', [sha256])) !== undefined,
    fileById: (id) => sql.row<FileRow>(`${FILE_SELECT} WHERE f.id = $1`, [id]),
    fileStorageUsed: async () =>
      (await sql.row<{ used: number }>(
        'SELECT ((SELECT coalesce(sum(size), 0) FROM blobs) + (SELECT coalesce(sum(received), 0) FROM uploads))::bigint AS used',
      ))!.used,
    fileBytesOnDay: async (userId, ts) =>
      (await sql.row<{ bytes: number }>('SELECT bytes FROM file_usage WHERE user_id = $1 AND day = $2', [userId, Math.floor(ts / DAY_MS)]))
        ?.bytes ?? 0,
    expireUnsent: (before, idleBefore) =>
      sql.transaction(async (tx) => {
        await tx.run('DELETE FROM files WHERE message_id IS NULL AND created_at < $1', [before]);
        return (await tx.rows<{ id: string }>('DELETE FROM uploads WHERE active_at < $1 RETURNING id', [idleBefore])).map((row) => row.id);
      }),
    takeOrphanBlobs: async () => (await sql.rows<{ sha256: string }>('DELETE FROM orphan_blobs RETURNING sha256')).map((row) => row.sha256),
  };
}
