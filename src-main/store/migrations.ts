/**
 * The database schema as numbered migrations. A database records the last one
 * applied in PRAGMA user_version; opening it applies the rest in order, each in
 * its own transaction together with the version bump, so a crash leaves the
 * database at a whole version. Never edit a released migration: add a new one.
 */
import type { Database } from 'better-sqlite3';
import { foldForSearch } from '../../src-shared/fold.js';
import { lookalikeSkeletons } from '../../src-shared/text.js';
import { gramsOf, storedText } from './search-grams.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** PRAGMA application_id of every LanChat database ("LNCH"), set by the first migration. */
export const APPLICATION_ID = 0x4c4e4348;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: '001-init',
    sql: `
      PRAGMA application_id = ${APPLICATION_ID};

      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        skeleton TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen INTEGER,
        -- Highest message id sent to the user when they last went offline.
        delivered_up_to INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id),
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE relations (
        user_low INTEGER NOT NULL REFERENCES users (id),
        user_high INTEGER NOT NULL REFERENCES users (id),
        state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined')),
        requester_id INTEGER NOT NULL,
        since INTEGER NOT NULL,
        PRIMARY KEY (user_low, user_high),
        CHECK (user_low < user_high),
        CHECK (requester_id IN (user_low, user_high))
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX relations_by_high ON relations (user_high);

      -- AUTOINCREMENT: the id of a deleted group is never given to a new one,
      -- so a client's cached "group:<id>" can never show another group.
      CREATE TABLE chat_groups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        owner_id INTEGER NOT NULL REFERENCES users (id),
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE group_members (
        group_id INTEGER NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users (id),
        PRIMARY KEY (group_id, user_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX group_members_by_user ON group_members (user_id);

      -- AUTOINCREMENT: message ids are sync cursors, so an id freed by deleting
      -- a group's messages must never be handed out again.
      -- group_id has no foreign key on purpose: the check would need a second
      -- index on this big table, and deleteGroup removes the messages itself.
      -- The CHECK ties conv to sender, recipient and group, because visibility
      -- is decided from those columns in one place and from conv in another.
      CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conv TEXT NOT NULL,
        sender_id INTEGER NOT NULL REFERENCES users (id),
        to_user_id INTEGER REFERENCES users (id),
        group_id INTEGER,
        client_msg_id TEXT NOT NULL,
        text TEXT NOT NULL,
        -- foldForSearch(text): what search compares against.
        folded TEXT NOT NULL,
        ts INTEGER NOT NULL,
        UNIQUE (sender_id, client_msg_id),
        CONSTRAINT message_target CHECK (CASE
          WHEN to_user_id IS NOT NULL THEN group_id IS NULL
            AND conv = 'dm:' || min(sender_id, to_user_id) || ':' || max(sender_id, to_user_id)
          WHEN group_id IS NOT NULL THEN conv = 'group:' || group_id
          ELSE conv = 'room'
        END)
      ) STRICT;
      CREATE INDEX messages_by_conv ON messages (conv, id);

      -- Whom each user has exchanged direct messages with, in both directions:
      -- lets sync read only the user's own conversations. Filled by the store as
      -- it inserts direct messages; a trigger on messages would make every insert,
      -- room messages included, run in a statement journal and cost 60% more.
      CREATE TABLE dm_partners (
        user_id INTEGER NOT NULL,
        partner_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, partner_id)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: '002-fts',
    sql: `
      -- Substring search over messages.folded. The text is folded before it gets
      -- here, so the tokenizer need not fold case again (case_sensitive 1).
      -- detail = none keeps only which messages hold each trigram, not where:
      -- a third of the size and cost of a full index. A query therefore asks for
      -- all of its trigrams and confirms the substring with instr(); see store.ts.
      -- No triggers keep this in step with messages: FTS5 flushes its pending
      -- changes at every statement savepoint, so per-row triggers made inserts
      -- several times slower and deleting a group's messages twice as slow.
      -- The store indexes each batch of inserted messages with one statement and
      -- unindexes a group's messages with one statement before deleting them.
      CREATE VIRTUAL TABLE message_search USING fts5 (
        folded,
        content = 'messages',
        content_rowid = 'id',
        tokenize = 'trigram case_sensitive 1',
        detail = none,
        columnsize = 0
      );
      INSERT INTO message_search (message_search) VALUES ('rebuild');
    `,
  },
  {
    version: 3,
    name: '003-access',
    sql: `
      -- Accounts registered in approval mode wait as 'pending' until the host approves them.
      ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending'));

      -- Names are stored as name keys, addresses as the server sees them.
      CREATE TABLE bans (
        kind TEXT NOT NULL CHECK (kind IN ('name', 'address')),
        value TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (kind, value)
      ) STRICT, WITHOUT ROWID;

      -- The host's room settings that outlive a restart (access mode, passphrase hash).
      CREATE TABLE room_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: '004-messages-by-sender',
    sql: `
      -- Search with a person walks that person's messages newest first, a slice of
      -- ids at a time (see search.ts): this index gives each slice by a range seek.
      CREATE INDEX messages_by_sender ON messages (sender_id, id);
    `,
  },
  {
    version: 5,
    name: '005-name-skeletons',
    sql: `
      -- Every skeleton of each account's name (lookalikeSkeletons: as typed, in lower
      -- and in upper case): a new name is refused when any of its skeletons is here,
      -- whichever of two look-alike names came first. users.skeleton stays as the
      -- lower-case one. An older database's accounts get theirs from their names;
      -- of two old accounts that now look alike, the older keeps the skeleton.
      CREATE TABLE name_skeletons (
        skeleton TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX name_skeletons_by_user ON name_skeletons (user_id);
      INSERT OR IGNORE INTO name_skeletons (skeleton, user_id)
        SELECT skeletons.value, users.id FROM users, json_each(lanchat_lookalike_skeletons(users.name)) AS skeletons
        ORDER BY users.id;
    `,
  },
  {
    version: 6,
    name: '006-bounded-fold',
    sql: `
      -- foldForSearch now keeps a character that stands for more than itself (U+FDFA
      -- stood for 18 letters): refold the messages whose stored form differs, and
      -- swap their entries in the search index (external content: the old form is
      -- what 'delete' must be given).
      CREATE TEMP TABLE refold AS
        WITH folds AS MATERIALIZED (SELECT id, folded AS old, lanchat_fold(text) AS new FROM messages)
        SELECT id, old, new FROM folds WHERE old <> new;
      INSERT INTO message_search (message_search, rowid, folded) SELECT 'delete', id, old FROM refold;
      UPDATE messages SET folded = (SELECT new FROM refold WHERE refold.id = messages.id) WHERE id IN (SELECT id FROM refold);
      INSERT INTO message_search (rowid, folded) SELECT id, new FROM refold;
      DROP TABLE refold;
    `,
  },
  {
    version: 7,
    name: '007-daily-usage',
    sql: `
      -- Bytes of message text (UTF-8) each user stored per UTC day (ts / 86400000),
      -- kept by the store as it inserts, for the per-user daily quota.
      CREATE TABLE daily_usage (
        user_id INTEGER NOT NULL,
        day INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (user_id, day)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: '008-group-invitations',
    sql: `
      -- Adding someone to a group invites them. A pending invitation waits for their
      -- answer; a declined one (they declined, or later left the group) stays, so the
      -- owner cannot invite them to that group again.
      CREATE TABLE group_invitations (
        group_id INTEGER NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        inviter_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN ('pending', 'declined')),
        since INTEGER NOT NULL,
        PRIMARY KEY (group_id, user_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX group_invitations_by_user ON group_invitations (user_id);

      -- Membership lines ("alice invited bob") are messages of the group's conversation,
      -- so they keep their place among the messages in history and sync. This holds what
      -- happened as JSON (docs/PROTOCOL.md §6.4.1); NULL for the messages people write.
      -- Their folded text is empty: search never finds them.
      ALTER TABLE messages ADD COLUMN group_event TEXT;
    `,
  },
  {
    version: 9,
    name: '009-conversation-changes',
    sql: `
      -- Conversation changes (protocol 1.1, docs/PROTOCOL.md §17). A reply's quote is read from
      -- its original each time (never copied), so deleting the original removes it everywhere.
      ALTER TABLE messages ADD COLUMN reply_to INTEGER;
      ALTER TABLE messages ADD COLUMN edited_at INTEGER;
      ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
      -- The message's newest edit, delete or reaction event, which replaces the one before
      -- (each carries the whole message as it is then): the log keeps one change per message.
      ALTER TABLE messages ADD COLUMN change_event INTEGER;

      -- Search follows edits and deletes (external content: 'delete' needs the old form).
      -- On UPDATE only: insert triggers would slow every send (see migrations 001, 002).
      CREATE TRIGGER messages_refold AFTER UPDATE OF folded ON messages BEGIN
        INSERT INTO message_search (message_search, rowid, folded) SELECT 'delete', old.id, old.folded WHERE old.folded <> '';
        INSERT INTO message_search (rowid, folded) SELECT new.id, new.folded WHERE new.folded <> '';
      END;

      -- The event log: what happened in each conversation, in one order across the server.
      -- message_id for message, edit, delete and reaction; user_id and up_to for read;
      -- user_id for member (kept for membership changes). Messages from before this
      -- version have no entry: clients sync those by message id.
      CREATE TABLE conv_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conv TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('message', 'edit', 'delete', 'reaction', 'read', 'member')),
        message_id INTEGER,
        user_id INTEGER,
        up_to INTEGER
      ) STRICT;
      CREATE INDEX conv_events_by_conv ON conv_events (conv, id);

      -- id orders a message's reactions as they were made.
      CREATE TABLE reactions (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users (id),
        emoji TEXT NOT NULL,
        UNIQUE (message_id, user_id, emoji)
      ) STRICT;

      -- Who a message mentions; conv lets unread mentions be counted per conversation.
      CREATE TABLE mentions (
        user_id INTEGER NOT NULL,
        conv TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, conv, message_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX mentions_by_message ON mentions (message_id);

      -- Each user's read position per conversation, with its newest read event (replaced by the next).
      CREATE TABLE read_cursors (
        user_id INTEGER NOT NULL,
        conv TEXT NOT NULL,
        up_to INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, conv)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX read_cursors_by_conv ON read_cursors (conv);

      ALTER TABLE users ADD COLUMN send_read_receipts INTEGER NOT NULL DEFAULT 1;

      -- A deleted group takes its log, reactions, mentions and read positions along (deleteGroup
      -- removes its messages first; the log's message entries still name them).
      CREATE TRIGGER chat_groups_forget_changes AFTER DELETE ON chat_groups BEGIN
        DELETE FROM reactions WHERE message_id IN
          (SELECT message_id FROM conv_events WHERE conv = 'group:' || old.id AND kind = 'message');
        DELETE FROM mentions WHERE message_id IN
          (SELECT message_id FROM conv_events WHERE conv = 'group:' || old.id AND kind = 'message');
        DELETE FROM conv_events WHERE conv = 'group:' || old.id;
        DELETE FROM read_cursors WHERE conv = 'group:' || old.id;
      END;
    `,
  },
  {
    version: 10,
    name: '010-files',
    sql: `
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
  },
  {
    version: 13,
    name: '013-short-needle-index',
    sql: `
      -- Which one- and two-character grams of messages.folded occur in each block of 1024 message
      -- ids (block = id / 1024): searches for needles under three characters read only the blocks
      -- that hold them (search-grams.ts). It may list a gram a block no longer holds, never miss one.
      CREATE TABLE message_grams (
        gram TEXT NOT NULL,
        block INTEGER NOT NULL,
        PRIMARY KEY (gram, block)
      ) STRICT, WITHOUT ROWID;

      -- Messages with ids below unindexed_below are not in message_grams yet: searches read them
      -- all, and the store indexes them in the background, newest first, lowering the mark.
      CREATE TABLE message_grams_state (unindexed_below INTEGER NOT NULL) STRICT;
      INSERT INTO message_grams_state (unindexed_below) SELECT coalesce(max(id), 0) + 1 FROM messages;

      -- Blocks whose grams may have gone (an edit, a delete); changes counts them, so the store,
      -- recomputing a block in the background, sees when it changed meanwhile.
      CREATE TABLE message_grams_stale (
        block INTEGER PRIMARY KEY,
        changes INTEGER NOT NULL
      ) STRICT;

      -- The store adds an inserted message's grams itself (an insert trigger would slow every
      -- send, see migration 001); an edit's come from here, so no update path can miss one.
      -- lanchat_grams (migrate registers it) lists them as a JSON array; it is given the bytes,
      -- from which it reads the text exactly as stored (search-grams.ts storedText).
      CREATE TRIGGER message_grams_refold AFTER UPDATE OF folded ON messages BEGIN
        INSERT OR IGNORE INTO message_grams (gram, block)
          SELECT value, new.id / 1024 FROM json_each(lanchat_grams(CAST(new.folded AS BLOB)));
        INSERT INTO message_grams_stale (block, changes) SELECT old.id / 1024, 1 WHERE old.folded <> ''
          ON CONFLICT (block) DO UPDATE SET changes = changes + 1;
      END;
      CREATE TRIGGER message_grams_forget AFTER DELETE ON messages WHEN old.folded <> '' BEGIN
        INSERT INTO message_grams_stale (block, changes) VALUES (old.id / 1024, 1)
          ON CONFLICT (block) DO UPDATE SET changes = changes + 1;
      END;
    `,
  },
  {
    version: 14,
    name: '014-messages-are-their-log-entries',
    sql: `
      -- A message stored from now on is its own 'message' entry in the event log (docs/PROTOCOL.md
      -- §17.8): its id is its event id, read through messages_by_conv, so storing one writes no
      -- conv_events row (a fifth of an insert's cost, docs/BENCHMARKS.md "Ingest (ingest18)").
      -- Messages and log entries therefore draw ids from one sequence, the messages' AUTOINCREMENT
      -- counter: a log entry takes the counter's next id (conversation.ts) and this trigger moves the
      -- counter to it, so no later message or entry takes a lower id. conv_events keeps the entries of
      -- messages stored before this version, whose event ids are not their ids.
      INSERT INTO sqlite_sequence (name, seq) SELECT 'messages', 0
        WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages');
      UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence WHERE name IN ('messages', 'conv_events'))
        WHERE name = 'messages';
      -- Messages with ids from logged_from on are their own log entries; older ones have theirs in conv_events.
      CREATE TABLE message_log_state (logged_from INTEGER NOT NULL) STRICT;
      INSERT INTO message_log_state (logged_from) SELECT seq + 1 FROM sqlite_sequence WHERE name = 'messages';
      CREATE TRIGGER conv_events_share_ids AFTER INSERT ON conv_events BEGIN
        UPDATE sqlite_sequence SET seq = new.id WHERE name = 'messages' AND seq < new.id;
      END;

      -- A deleted group's messages no longer all have log entries to find their reactions and mentions
      -- by: the trigger reads them from the messages, so deleteGroup deletes the group before them.
      DROP TRIGGER chat_groups_forget_changes;
      CREATE TRIGGER chat_groups_forget_changes AFTER DELETE ON chat_groups BEGIN
        DELETE FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE conv = 'group:' || old.id);
        DELETE FROM mentions WHERE message_id IN (SELECT id FROM messages WHERE conv = 'group:' || old.id);
        DELETE FROM conv_events WHERE conv = 'group:' || old.id;
        DELETE FROM read_cursors WHERE conv = 'group:' || old.id;
      END;
    `,
  },
  {
    version: 15,
    name: '015-search-index-off-the-send-path',
    sql: `
      -- The trigram index moves to its own file, written by the indexer thread (search-index.ts):
      -- it was two thirds of a lone message's commit, and its merges held edits and sends for
      -- 30-50 ms on a large history. The indexer builds the new one from the messages.
      DROP TRIGGER messages_refold;
      DROP TABLE message_search;

      -- The messages whose text to find changed (an edit, a delete) or that went (with their
      -- group), for the indexer to index again or drop; the store forgets the entries the index
      -- has applied when it opens. AUTOINCREMENT: an entry's seq is never reused.
      CREATE TABLE message_search_changed (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id INTEGER NOT NULL
      ) STRICT;
      CREATE TRIGGER message_search_refold AFTER UPDATE OF folded ON messages WHEN old.folded IS NOT new.folded BEGIN
        INSERT INTO message_search_changed (message_id) VALUES (new.id);
      END;
      CREATE TRIGGER message_search_forget AFTER DELETE ON messages WHEN old.folded <> '' BEGIN
        INSERT INTO message_search_changed (message_id) VALUES (old.id);
      END;

      -- Names this database to its index file: an index built from another database is rebuilt.
      CREATE TABLE search_index_key (key TEXT NOT NULL) STRICT;
      INSERT INTO search_index_key VALUES (lower(hex(randomblob(16))));
    `,
  },
  {
    version: 16,
    name: '016-upload-reservations',
    sql: `
      -- An unfinished upload holds in the room's store only the bytes that arrived (received, as of
      -- active_at), and is forgotten once no bytes came for a while, not a day after it began.
      ALTER TABLE uploads ADD COLUMN received INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE uploads ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0;
      UPDATE uploads SET active_at = created_at;
      CREATE INDEX uploads_by_user ON uploads (user_id);
    `,
  },
  {
    version: 17,
    name: '017-text-folded-once',
    sql: `
      -- A text that folds to itself keeps '' as its folded text and is searched as it is (searched-text.ts),
      -- so it is stored once, not twice; a membership line, whose folded text is '' too, has a group_event.
      -- The triggers that followed messages.folded follow the text searched instead; rows stored before
      -- keep their copy.
      DROP TRIGGER message_grams_refold;
      DROP TRIGGER message_grams_forget;
      DROP TRIGGER message_search_refold;
      DROP TRIGGER message_search_forget;
      CREATE TRIGGER message_grams_refold AFTER UPDATE OF text, folded ON messages BEGIN
        INSERT OR IGNORE INTO message_grams (gram, block)
          SELECT value, new.id / 1024 FROM json_each(lanchat_grams(CAST(
            (CASE WHEN new.folded = '' AND new.group_event IS NULL THEN new.text ELSE new.folded END) AS BLOB)));
        INSERT INTO message_grams_stale (block, changes) SELECT old.id / 1024, 1
          WHERE (CASE WHEN old.folded = '' AND old.group_event IS NULL THEN old.text ELSE old.folded END) <> ''
          ON CONFLICT (block) DO UPDATE SET changes = changes + 1;
      END;
      CREATE TRIGGER message_grams_forget AFTER DELETE ON messages
        WHEN (CASE WHEN old.folded = '' AND old.group_event IS NULL THEN old.text ELSE old.folded END) <> '' BEGIN
        INSERT INTO message_grams_stale (block, changes) VALUES (old.id / 1024, 1)
          ON CONFLICT (block) DO UPDATE SET changes = changes + 1;
      END;
      CREATE TRIGGER message_search_refold AFTER UPDATE OF text, folded ON messages
        WHEN (CASE WHEN old.folded = '' AND old.group_event IS NULL THEN old.text ELSE old.folded END)
          IS NOT (CASE WHEN new.folded = '' AND new.group_event IS NULL THEN new.text ELSE new.folded END) BEGIN
        INSERT INTO message_search_changed (message_id) VALUES (new.id);
      END;
      CREATE TRIGGER message_search_forget AFTER DELETE ON messages
        WHEN (CASE WHEN old.folded = '' AND old.group_event IS NULL THEN old.text ELSE old.folded END) <> '' BEGIN
        INSERT INTO message_search_changed (message_id) VALUES (old.id);
      END;
    `,
  },
  {
    version: 18,
    name: '018-mls',
    sql: `
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
  },
];

/** Versions are assigned per feature, so the list may have a gap until every feature's migration is in. */
export const LATEST_VERSION = migrations.at(-1)!.version;

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration above the database's version, up to `target`. */
export function migrate(db: Database, target = LATEST_VERSION): void {
  // What migrations compute from names and text, as the application does.
  db.function('lanchat_fold', { deterministic: true }, (text) => foldForSearch(String(text)));
  db.function('lanchat_lookalike_skeletons', { deterministic: true }, (name) => JSON.stringify(lookalikeSkeletons(String(name))));
  // And what the triggers of migration 13 compute, for as long as the connection is open.
  db.function('lanchat_grams', { deterministic: true }, (folded) => JSON.stringify(gramsOf(storedText(folded as Uint8Array))));
  for (const migration of migrations) {
    if (migration.version <= schemaVersion(db) || migration.version > target) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}
