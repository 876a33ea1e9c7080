/**
 * Files of end-to-end encrypted messages (docs/PROTOCOL.md §20.6): a file's ciphertext is carried by the
 * MLS application frame that names it, read by whoever may read that frame's conversation, and goes with
 * the frame (its group deleted) or when its sender deletes it for everyone.
 */
import type { Migration } from './migration.js';

export default {
  version: 21,
  name: '021-mls-files',
  sqlite: `
      ALTER TABLE files ADD COLUMN mls_frame_id INTEGER REFERENCES mls_frames (id) ON DELETE CASCADE;
      CREATE INDEX files_by_mls_frame ON files (mls_frame_id) WHERE mls_frame_id IS NOT NULL;
    `,
  postgres: `
      ALTER TABLE files ADD COLUMN mls_frame_id bigint REFERENCES mls_frames (id) ON DELETE CASCADE;
      CREATE INDEX files_by_mls_frame ON files (mls_frame_id) WHERE mls_frame_id IS NOT NULL;
    `,
} satisfies Migration;
