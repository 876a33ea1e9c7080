/**
 * Files (docs/PROTOCOL.md §18): uploads under way, finished files, and the contents
 * they refer to. A content (blob) is stored once whatever number of files have it;
 * when the last file of a content goes (its message deleted, its group deleted, or
 * never sent), a trigger marks the content an orphan, and the server removes its
 * disk file (takeOrphanBlobs). The disk files themselves are the server's business.
 */
import { row, rows, run, transaction, type Dialect, type Queries } from './query.js';

export interface UploadRow {
  id: string;
  userId: number;
  name: string;
  size: number;
  sha256: string;
  createdAt: number;
}

/** An upload as stored: with the bytes it held when its server last said (`touchUploads`). */
export interface StoredUpload extends UploadRow {
  received: number;
}

/** What a user's unfinished uploads reserve: their number and declared sizes together. */
export interface Reservations {
  count: number;
  bytes: number;
}

export interface FileRow {
  id: string;
  sha256: string;
  name: string;
  size: number;
  /** MIME type detected from the content. */
  type: string;
  uploaderId: number;
  /** The message carrying it; null until it is sent (and for a file of an encrypted message). */
  messageId: number | null;
  /** The MLS application frame carrying it (an end-to-end encrypted message's file, PROTOCOL §20.6); null otherwise. */
  frameId: number | null;
  /** The conversation of the message or frame carrying it. */
  conv: string | null;
  createdAt: number;
}

const DAY_MS = 86_400_000;

export interface FileStore {
  /** Records a new upload, active at its start, and counts its size against the user's day. */
  createUpload(upload: UploadRow): void;
  uploadById(id: string): StoredUpload | undefined;
  deleteUpload(id: string): void;
  /** The user's unfinished uploads. */
  reservationsOf(userId: number): Reservations;
  /** Records the bytes each upload holds, as of `at`: it was receiving until then. */
  touchUploads(uploads: { id: string; received: number }[], at: number): void;
  /** Turns a finished upload into a file of that content and type (the content's blob row added if new); undefined when the upload is gone. */
  completeUpload(id: string, type: string): FileRow | undefined;
  /** Whether some file already has this content (its disk file is in place). */
  hasBlob(sha256: string): boolean;
  fileById(id: string): FileRow | undefined;
  /** Bytes of all contents kept plus the bytes unfinished uploads held when last touched. */
  fileStorageUsed(): number;
  /** Bytes of uploads the user began on the UTC day of `ts`. */
  fileBytesOnDay(userId: number, ts: number): number;
  /**
   * Forgets files never sent (carried by no message nor frame) that began before `before`, and unfinished uploads last active before
   * `idleBefore`; returns those uploads' ids.
   */
  expireUnsent(before: number, idleBefore: number): string[];
  /** Contents no file has any more: removed from the list as they are returned, for the caller to delete. */
  takeOrphanBlobs(): string[];
}

const FILE_SELECT = `
  SELECT f.id, f.sha256, f.name, f.size, f.type, f.uploader_id AS "uploaderId", f.message_id AS "messageId",
    f.mls_frame_id AS "frameId", coalesce(m.conv, fr.conv) AS conv, f.created_at AS "createdAt"
  FROM files f LEFT JOIN messages m ON m.id = f.message_id LEFT JOIN mls_frames fr ON fr.id = f.mls_frame_id`;
const UPLOAD_SELECT = 'SELECT id, user_id AS "userId", name, size, sha256, created_at AS "createdAt", received FROM uploads';

export function fileQueries(d: Dialect): Queries<FileStore> {
  return {
    createUpload: (upload) =>
      transaction(
        (function* () {
          const { id, userId, name, size, sha256, createdAt } = upload;
          yield* run('INSERT INTO uploads (id, user_id, name, size, sha256, created_at, active_at) VALUES ($1, $2, $3, $4, $5, $6, $6)', [
            id,
            userId,
            name,
            size,
            sha256,
            createdAt,
          ]);
          yield* run(
            `INSERT INTO file_usage (user_id, day, bytes) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, day) DO UPDATE SET bytes = file_usage.bytes + excluded.bytes`,
            [userId, Math.floor(createdAt / DAY_MS), size],
          );
        })(),
      ),
    uploadById: (id) => row<StoredUpload>(`${UPLOAD_SELECT} WHERE id = $1`, [id]),
    *deleteUpload(id) {
      yield* run('DELETE FROM uploads WHERE id = $1', [id]);
    },
    *reservationsOf(userId) {
      return (yield* row<Reservations>('SELECT count(*) AS count, CAST(coalesce(sum(size), 0) AS BIGINT) AS bytes FROM uploads WHERE user_id = $1', [
        userId,
      ]))!;
    },
    touchUploads: (uploads, at) =>
      transaction(
        (function* () {
          for (const upload of uploads) yield* run('UPDATE uploads SET received = $1, active_at = $2 WHERE id = $3', [upload.received, at, upload.id]);
        })(),
      ),
    completeUpload: (id, type) =>
      transaction(
        (function* () {
          const upload = yield* row<StoredUpload>(`${UPLOAD_SELECT} WHERE id = $1 ${d.forUpdate}`, [id]);
          if (!upload) return undefined;
          yield* run('INSERT INTO blobs (sha256, size) VALUES ($1, $2) ON CONFLICT DO NOTHING', [upload.sha256, upload.size]);
          yield* run('DELETE FROM orphan_blobs WHERE sha256 = $1', [upload.sha256]);
          yield* run('INSERT INTO files (id, sha256, name, size, type, uploader_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
            id,
            upload.sha256,
            upload.name,
            upload.size,
            type,
            upload.userId,
            upload.createdAt,
          ]);
          yield* run('DELETE FROM uploads WHERE id = $1', [id]);
          return (yield* row<FileRow>(`${FILE_SELECT} WHERE f.id = $1`, [id]))!;
        })(),
      ),
    *hasBlob(sha256) {
      return (yield* row('SELECT 1 AS found FROM blobs WHERE sha256 = $1', [sha256])) !== undefined;
    },
    fileById: (id) => row<FileRow>(`${FILE_SELECT} WHERE f.id = $1`, [id]),
    *fileStorageUsed() {
      return (yield* row<{ used: number }>(
        'SELECT CAST((SELECT coalesce(sum(size), 0) FROM blobs) + (SELECT coalesce(sum(received), 0) FROM uploads) AS BIGINT) AS used',
      ))!.used;
    },
    *fileBytesOnDay(userId, ts) {
      return (yield* row<{ bytes: number }>('SELECT bytes FROM file_usage WHERE user_id = $1 AND day = $2', [userId, Math.floor(ts / DAY_MS)]))?.bytes ?? 0;
    },
    expireUnsent: (before, idleBefore) =>
      transaction(
        (function* () {
          yield* run('DELETE FROM files WHERE message_id IS NULL AND mls_frame_id IS NULL AND created_at < $1', [before]);
          return (yield* rows<{ id: string }>('DELETE FROM uploads WHERE active_at < $1 RETURNING id', [idleBefore])).map((upload) => upload.id);
        })(),
      ),
    *takeOrphanBlobs() {
      return (yield* rows<{ sha256: string }>('DELETE FROM orphan_blobs RETURNING sha256')).map((blob) => blob.sha256);
    },
  };
}
