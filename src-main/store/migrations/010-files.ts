/** Attachments: contents, files, uploads and the daily file quota. PostgreSQL: in 001. */
import type { Migration } from './migration.js';

export default {
  version: 10,
  name: '010-files',
  sqlite: `
      -- The attachments of a message as sent (docs/PROTOCOL.md §18), a JSON array; NULL without.
      ALTER TABLE messages ADD COLUMN attachments TEXT;

      -- One row per distinct content (by SHA-256): the file on disk, stored once however often it was sent.
      CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- One row per finished upload. A file is attached to at most one message and goes with it;
      -- until it is attached only its uploader can use it.
      CREATE TABLE files (
        id TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL REFERENCES blobs (sha256),
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        type TEXT NOT NULL,
        uploader_id INTEGER NOT NULL REFERENCES users (id),
        message_id INTEGER REFERENCES messages (id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX files_by_sha256 ON files (sha256);
      CREATE INDEX files_by_message ON files (message_id) WHERE message_id IS NOT NULL;
      CREATE INDEX files_unsent ON files (created_at) WHERE message_id IS NULL;

      -- Uploads begun and not finished; their bytes so far sit in a partial file named by the id.
      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- Contents no file refers to any more, whose disk file the server removes next.
      CREATE TABLE orphan_blobs (sha256 TEXT PRIMARY KEY) STRICT, WITHOUT ROWID;

      -- The last file referring to a content is gone (its message deleted, or never sent): so is the content.
      CREATE TRIGGER files_release AFTER DELETE ON files
      WHEN NOT EXISTS (SELECT 1 FROM files WHERE sha256 = OLD.sha256)
      BEGIN
        DELETE FROM blobs WHERE sha256 = OLD.sha256;
        INSERT OR IGNORE INTO orphan_blobs (sha256) VALUES (OLD.sha256);
      END;

      -- A message deleted for everyone (migration 9 keeps its row) takes its files with it.
      CREATE TRIGGER messages_delete_files AFTER UPDATE OF deleted ON messages WHEN new.deleted = 1
      BEGIN
        DELETE FROM files WHERE message_id = new.id;
        UPDATE messages SET attachments = NULL WHERE id = new.id AND attachments IS NOT NULL;
      END;

      -- Bytes of uploads each user began per UTC day (created_at / 86400000), for the daily file quota.
      CREATE TABLE file_usage (
        user_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (user_id, day)
      ) STRICT, WITHOUT ROWID;
    `,
} satisfies Migration;
