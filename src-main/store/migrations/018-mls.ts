/** End-to-end encryption (docs/PROTOCOL.md §20): devices, key packages, each encrypted conversation's epoch, its frames and their welcomes' devices. */
import type { Migration } from './migration.js';

export default {
  version: 18,
  name: '018-mls',
  sqlite: `
      -- End-to-end encryption (docs/PROTOCOL.md §20): bytes the host keeps as received and cannot read.
      CREATE TABLE mls_devices (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        device_id TEXT NOT NULL,
        signature_key BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id)
      ) STRICT, WITHOUT ROWID;

      -- Kept for a device until someone claims one (oldest first), which deletes it.
      CREATE TABLE mls_key_packages (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL,
        device_id TEXT NOT NULL,
        key_package BLOB NOT NULL,
        FOREIGN KEY (user_id, device_id) REFERENCES mls_devices (user_id, device_id) ON DELETE CASCADE
      ) STRICT;
      CREATE INDEX mls_key_packages_by_device ON mls_key_packages (user_id, device_id, id);

      -- Each encrypted conversation's epoch (raised by each commit accepted) and its last frame's seq.
      CREATE TABLE mls_conversations (
        conv TEXT PRIMARY KEY,
        epoch INTEGER NOT NULL,
        last_seq INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- AUTOINCREMENT: ids are mlsSync's cursor and never handed out twice. group_id, or dm_low and
      -- dm_high, say who may read the frame (the group's members now, or the two users).
      CREATE TABLE mls_frames (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conv TEXT NOT NULL,
        seq INTEGER NOT NULL,
        epoch INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('commit', 'application')),
        sender_id INTEGER NOT NULL REFERENCES users (id),
        device_id TEXT NOT NULL,
        client_msg_id TEXT,
        data BLOB NOT NULL,
        welcome BLOB,
        ts INTEGER NOT NULL,
        group_id INTEGER,
        dm_low INTEGER,
        dm_high INTEGER,
        UNIQUE (conv, seq),
        UNIQUE (sender_id, client_msg_id)
      ) STRICT;
      CREATE INDEX mls_frames_by_dm_low ON mls_frames (dm_low, id) WHERE dm_low IS NOT NULL;
      CREATE INDEX mls_frames_by_dm_high ON mls_frames (dm_high, id) WHERE dm_high IS NOT NULL;
      CREATE INDEX mls_frames_by_group ON mls_frames (group_id, id) WHERE group_id IS NOT NULL;

      -- The devices a commit's welcome is for, in the order the commit named them.
      CREATE TABLE mls_welcomes (
        frame_id INTEGER NOT NULL REFERENCES mls_frames (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        device_id TEXT NOT NULL,
        PRIMARY KEY (frame_id, position)
      ) STRICT, WITHOUT ROWID;
    `,
  postgres: `
      -- End-to-end encryption (docs/PROTOCOL.md §20), bytes the host cannot read.
      CREATE TABLE mls_devices (
        user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        device_id text NOT NULL,
        signature_key bytea NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (user_id, device_id)
      );
      CREATE TABLE mls_key_packages (
        id bigserial PRIMARY KEY,
        user_id bigint NOT NULL,
        device_id text NOT NULL,
        key_package bytea NOT NULL,
        FOREIGN KEY (user_id, device_id) REFERENCES mls_devices (user_id, device_id) ON DELETE CASCADE
      );
      CREATE INDEX mls_key_packages_by_device ON mls_key_packages (user_id, device_id, id);
      CREATE TABLE mls_conversations (
        conv text PRIMARY KEY,
        epoch bigint NOT NULL,
        last_seq bigint NOT NULL
      );
      CREATE TABLE mls_frames (
        id bigserial PRIMARY KEY,
        conv text NOT NULL,
        seq bigint NOT NULL,
        epoch bigint NOT NULL,
        kind text NOT NULL CHECK (kind IN ('commit', 'application')),
        sender_id bigint NOT NULL REFERENCES users (id),
        device_id text NOT NULL,
        client_msg_id text,
        data bytea NOT NULL,
        welcome bytea,
        ts bigint NOT NULL,
        group_id bigint,
        dm_low bigint,
        dm_high bigint,
        UNIQUE (conv, seq),
        UNIQUE (sender_id, client_msg_id)
      );
      CREATE INDEX mls_frames_by_dm_low ON mls_frames (dm_low, id) WHERE dm_low IS NOT NULL;
      CREATE INDEX mls_frames_by_dm_high ON mls_frames (dm_high, id) WHERE dm_high IS NOT NULL;
      CREATE INDEX mls_frames_by_group ON mls_frames (group_id, id) WHERE group_id IS NOT NULL;
      CREATE TABLE mls_welcomes (
        frame_id bigint NOT NULL REFERENCES mls_frames (id) ON DELETE CASCADE,
        position integer NOT NULL,
        user_id bigint NOT NULL,
        device_id text NOT NULL,
        PRIMARY KEY (frame_id, position)
      );
    `,
} satisfies Migration;
