/** File contents in the database (`--files-store postgres`, server/file-store/postgres.ts): PostgreSQL only. */
import type { Migration } from './migration.js';

export default {
  version: 19,
  name: '019-file-chunks',
  postgres: `
      -- The bytes of files, in chunks of up to 256 KiB: key is 'upload:<id>' for an upload's bytes so
      -- far, or a content's SHA-256 once finished (one rename); pos is the offset of the chunk's first
      -- byte, so a resumed upload appends at the bytes stored and a download starts at any offset.
      CREATE TABLE file_chunks (
        key text NOT NULL,
        pos bigint NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (key, pos)
      );
      -- Out of line and not compressed: most files are compressed already (images, archives, videos).
      ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    `,
} satisfies Migration;
