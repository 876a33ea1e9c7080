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
  /** Records a new upload and counts its size against the user's day. */
  createUpload(upload: UploadRow): void;
  uploadById(id: string): UploadRow | undefined;
  deleteUpload(id: string): void;
  /** Turns a finished upload into a file of that content and type; the content's blob row is added if new. */
  completeUpload(id: string, type: string): FileRow;
  /** Whether some file already has this content (its disk file is in place). */
  hasBlob(sha256: string): boolean;
  fileById(id: string): FileRow | undefined;
  /** Bytes of all contents kept plus the full size of every upload under way. */
  fileStorageUsed(): number;
  /** Bytes of uploads the user began on the UTC day of `ts`. */
  fileBytesOnDay(userId: number, ts: number): number;
  /** Forgets files never sent and uploads never finished that began before `before`; returns those uploads' ids. */
  expireUnsent(before: number): string[];
  /** Contents no file has any more: removed from the list as they are returned, for the caller to delete. */
  takeOrphanBlobs(): string[];
}

const FILE_SELECT = `
  SELECT f.id, f.sha256, f.name, f.size, f.type, f.uploader_id AS uploaderId, f.message_id AS messageId,
    m.conv, f.created_at AS createdAt
  FROM files f LEFT JOIN messages m ON m.id = f.message_id`;

export function fileQueries(db: Db): FileStore {
  const insertUpload = db.prepare<UploadRow>(
    'INSERT INTO uploads (id, user_id, name, size, sha256, created_at) VALUES (@id, @userId, @name, @size, @sha256, @createdAt)',
  );
  const addUsage = db.prepare<[number, number, number]>(
    `INSERT INTO file_usage (user_id, day, bytes) VALUES (?, ?, ?)
     ON CONFLICT (user_id, day) DO UPDATE SET bytes = bytes + excluded.bytes`,
  );
  const usageOn = db.prepare<[number, number], number>('SELECT bytes FROM file_usage WHERE user_id = ? AND day = ?').pluck();
  const uploadById = db.prepare<[string], UploadRow>(
    'SELECT id, user_id AS userId, name, size, sha256, created_at AS createdAt FROM uploads WHERE id = ?',
  );
  const deleteUpload = db.prepare<[string]>('DELETE FROM uploads WHERE id = ?');
  const insertBlob = db.prepare<[string, number]>('INSERT OR IGNORE INTO blobs (sha256, size) VALUES (?, ?)');
  const unmarkOrphan = db.prepare<[string]>('DELETE FROM orphan_blobs WHERE sha256 = ?');
  const insertFile = db.prepare<[string, string, string, number, string, number, number]>(
    'INSERT INTO files (id, sha256, name, size, type, uploader_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const hasBlob = db.prepare<[string], number>('SELECT 1 FROM blobs WHERE sha256 = ?').pluck();
  const fileById = db.prepare<[string], FileRow>(`${FILE_SELECT} WHERE f.id = ?`);
  const storageUsed = db
    .prepare<[], number>('SELECT (SELECT coalesce(sum(size), 0) FROM blobs) + (SELECT coalesce(sum(size), 0) FROM uploads)')
    .pluck();
  const deleteUnsentFiles = db.prepare<[number]>('DELETE FROM files WHERE message_id IS NULL AND created_at < ?');
  const oldUploads = db.prepare<[number], string>('SELECT id FROM uploads WHERE created_at < ?').pluck();
  const deleteOldUploads = db.prepare<[number]>('DELETE FROM uploads WHERE created_at < ?');
  const orphans = db.prepare<[], string>('SELECT sha256 FROM orphan_blobs').pluck();
  const clearOrphans = db.prepare('DELETE FROM orphan_blobs');

  return {
    createUpload: db.transaction((upload: UploadRow) => {
      insertUpload.run(upload);
      addUsage.run(upload.userId, Math.floor(upload.createdAt / DAY_MS), upload.size);
    }),
    uploadById: (id) => uploadById.get(id),
    deleteUpload: (id) => void deleteUpload.run(id),
    completeUpload: db.transaction((id: string, type: string): FileRow => {
      const upload = uploadById.get(id)!;
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
    expireUnsent: db.transaction((before: number): string[] => {
      deleteUnsentFiles.run(before);
      const ids = oldUploads.all(before);
      deleteOldUploads.run(before);
      return ids;
    }),
    takeOrphanBlobs: db.transaction((): string[] => {
      const found = orphans.all();
      clearOrphans.run();
      return found;
    }),
  };
}
