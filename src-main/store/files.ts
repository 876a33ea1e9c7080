/**
 * Files (docs/PROTOCOL.md §18): uploads under way, finished files, and the contents
 * they refer to. A content (blob) is stored once whatever number of files have it;
 * when the last file of a content goes (its message deleted, its group deleted, or
 * never sent), a trigger marks the content an orphan, and the server removes its
 * disk file (takeOrphanBlobs). The disk files themselves are the server's business.
 */
import type { Db } from './rows.js';

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
  /** The message carrying it; null until it is sent. */
  messageId: number | null;
  /** That message's conversation. */
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
   * Forgets files never sent that began before `before`, and unfinished uploads last active before
   * `idleBefore`; returns those uploads' ids.
   */
  expireUnsent(before: number, idleBefore: number): string[];
  /** Contents no file has any more: removed from the list as they are returned, for the caller to delete. */
  takeOrphanBlobs(): string[];
}

const FILE_SELECT = `
  SELECT f.id, f.sha256, f.name, f.size, f.type, f.uploader_id AS uploaderId, f.message_id AS messageId,
    m.conv, f.created_at AS createdAt
  FROM files f LEFT JOIN messages m ON m.id = f.message_id`;

export function fileQueries(db: Db): FileStore {
  const insertUpload = db.prepare<UploadRow>(
    'INSERT INTO uploads (id, user_id, name, size, sha256, created_at, active_at) VALUES (@id, @userId, @name, @size, @sha256, @createdAt, @createdAt)',
  );
  const addUsage = db.prepare<[number, number, number]>(
    `INSERT INTO file_usage (user_id, day, bytes) VALUES (?, ?, ?)
     ON CONFLICT (user_id, day) DO UPDATE SET bytes = bytes + excluded.bytes`,
  );
  const usageOn = db.prepare<[number, number], number>('SELECT bytes FROM file_usage WHERE user_id = ? AND day = ?').pluck();
  const uploadById = db.prepare<[string], StoredUpload>(
    'SELECT id, user_id AS userId, name, size, sha256, created_at AS createdAt, received FROM uploads WHERE id = ?',
  );
  const reservations = db.prepare<[number], Reservations>('SELECT count(*) AS count, coalesce(sum(size), 0) AS bytes FROM uploads WHERE user_id = ?');
  const touchUpload = db.prepare<[number, number, string]>('UPDATE uploads SET received = ?, active_at = ? WHERE id = ?');
  const deleteUpload = db.prepare<[string]>('DELETE FROM uploads WHERE id = ?');
  const insertBlob = db.prepare<[string, number]>('INSERT OR IGNORE INTO blobs (sha256, size) VALUES (?, ?)');
  const unmarkOrphan = db.prepare<[string]>('DELETE FROM orphan_blobs WHERE sha256 = ?');
  const insertFile = db.prepare<[string, string, string, number, string, number, number]>(
    'INSERT INTO files (id, sha256, name, size, type, uploader_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const hasBlob = db.prepare<[string], number>('SELECT 1 FROM blobs WHERE sha256 = ?').pluck();
  const fileById = db.prepare<[string], FileRow>(`${FILE_SELECT} WHERE f.id = ?`);
  const storageUsed = db
    .prepare<[], number>('SELECT (SELECT coalesce(sum(size), 0) FROM blobs) + (SELECT coalesce(sum(received), 0) FROM uploads)')
    .pluck();
  const deleteUnsentFiles = db.prepare<[number]>('DELETE FROM files WHERE message_id IS NULL AND created_at < ?');
  const idleUploads = db.prepare<[number], string>('DELETE FROM uploads WHERE active_at < ? RETURNING id').pluck();
  const orphans = db.prepare<[], string>('SELECT sha256 FROM orphan_blobs').pluck();
  const clearOrphans = db.prepare('DELETE FROM orphan_blobs');

  return {
    createUpload: db.transaction((upload: UploadRow) => {
      insertUpload.run(upload);
      addUsage.run(upload.userId, Math.floor(upload.createdAt / DAY_MS), upload.size);
    }),
    uploadById: (id) => uploadById.get(id),
    deleteUpload: (id) => void deleteUpload.run(id),
    reservationsOf: (userId) => reservations.get(userId)!,
    touchUploads: db.transaction((uploads: { id: string; received: number }[], at: number) => {
      for (const upload of uploads) touchUpload.run(upload.received, at, upload.id);
    }),
    completeUpload: db.transaction((id: string, type: string): FileRow | undefined => {
      const upload = uploadById.get(id);
      if (!upload) return undefined;
      insertBlob.run(upload.sha256, upload.size);
      unmarkOrphan.run(upload.sha256);
      insertFile.run(id, upload.sha256, upload.name, upload.size, type, upload.userId, upload.createdAt);
      deleteUpload.run(id);
      return fileById.get(id)!;
    }),
    hasBlob: (sha256) => hasBlob.get(sha256) === 1,
    fileById: (id) => fileById.get(id),
    fileStorageUsed: () => storageUsed.get()!,
    fileBytesOnDay: (userId, ts) => usageOn.get(userId, Math.floor(ts / DAY_MS)) ?? 0,
    expireUnsent: db.transaction((before: number, idleBefore: number): string[] => {
      deleteUnsentFiles.run(before);
      return idleUploads.all(idleBefore);
    }),
    takeOrphanBlobs: db.transaction((): string[] => {
      const found = orphans.all();
      clearOrphans.run();
      return found;
    }),
  };
}
