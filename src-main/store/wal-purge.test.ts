import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ROOM } from '../../src-shared/protocol/conversation.js';
import { openAsyncStore } from './async-store.js';
import { openStoreWithDatabase } from './store.js';
import type { AsyncStore } from './types.js';

describe('the write-ahead log in the background (SQLite)', () => {
  let dir: string;
  let file: string;
  let store: AsyncStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lanchat-wal-'));
    file = join(dir, 'chat.sqlite');
    store = openAsyncStore(file);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Messages in the database file alone, as a reader without the log would find them. */
  function messagesInDatabaseFile(): number {
    const copy = join(dir, 'copy.sqlite');
    rmSync(`${copy}-wal`, { force: true });
    copyFileSync(file, copy);
    const db = new Database(copy);
    try {
      // Until the first copy even the tables are in the log alone.
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'messages'").get()) return 0;
      return (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  async function sendBatches(senderId: number, from: number, count: number): Promise<void> {
    for (let batch = from; batch < from + count; batch += 1) {
      const text = `batch ${batch} `.padEnd(1000, 'x');
      await store.insertMessages(Array.from({ length: 100 }, (_, i) => ({ conv: ROOM, senderId, clientMsgId: `${batch}-${i}`, text, ts: 1 })));
    }
  }

  it('copies what was committed into the database off the server thread, and the log then starts over instead of growing', async () => {
    const ann = await store.createUser({ name: 'ann', nameKey: 'ann', skeleton: 'ann', passwordHash: 'h', createdAt: 1 });
    // About 2 MB of log: far below the 64 MB at which the server's own connection would copy it in a commit.
    await sendBatches(ann.id, 0, 20);
    expect(messagesInDatabaseFile()).toBe(0);

    await vi.waitFor(() => expect(messagesInDatabaseFile()).toBe(2000), { timeout: 10_000, interval: 100 });
    const logBytes = statSync(`${file}-wal`).size;
    // Half as much again: written over the start of the copied log, not appended to it.
    await sendBatches(ann.id, 20, 10);
    expect(statSync(`${file}-wal`).size).toBe(logBytes);
  });

  /**
   * The log's last frame and the last one copied into the database, from the shared-memory index
   * (https://sqlite.org/walformat.html: mxFrame at byte 16 of the header, nBackfill right after its two copies).
   */
  function logState(): { frames: number; copied: number } {
    const index = readFileSync(`${file}-shm`);
    return { frames: index.readUInt32LE(16), copied: index.readUInt32LE(96) };
  }

  it('truncates the log on the server connection only once the worker copied it to its end, the server writing meanwhile', async () => {
    await store.close();
    const opened = openStoreWithDatabase(file);
    try {
      const { store: sync, db } = opened;
      const ann = sync.createUser({ name: 'ann', nameKey: 'ann', skeleton: 'ann', passwordHash: 'h', createdAt: 1 });
      const send = (clientMsgId: string): unknown => sync.insertMessages([{ conv: ROOM, senderId: ann.id, clientMsgId, text: 'x'.repeat(500), ts: 1 }]);
      send('first');
      // The worker started and warm, as on a host that has been up a while.
      await sync.purgeDeleted();
      const atTruncation: { frames: number; copied: number }[] = [];
      const pragma = db.pragma.bind(db);
      vi.spyOn(db, 'pragma').mockImplementation((source: string, options?: Database.PragmaOptions) => {
        if (source === 'wal_checkpoint(TRUNCATE)') atTruncation.push(logState());
        return pragma(source, options);
      });
      let purging = true;
      const writes = (async () => {
        // One write a turn until the log is truncated: a room in the middle of a conversation.
        for (let i = 0; purging && i < 2000; i += 1) {
          send(`during-${i}`);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await sync.purgeDeleted();
      purging = false;
      await writes;
      expect(atTruncation.length).toBeGreaterThan(0);
      // Nothing left for the server's thread to copy and sync: the truncation alone.
      for (const state of atTruncation) expect(state.copied).toBe(state.frames);
    } finally {
      opened.store.close();
      store = openAsyncStore(file);
    }
  });

  it('still truncates the log when the server writes during every copy, copying the rest on its own connection', async () => {
    await store.close();
    const opened = openStoreWithDatabase(file);
    try {
      const { store: sync } = opened;
      const ann = sync.createUser({ name: 'ann', nameKey: 'ann', skeleton: 'ann', passwordHash: 'h', createdAt: 1 });
      let writes = 0;
      const send = (): unknown => sync.insertMessages([{ conv: ROOM, senderId: ann.id, clientMsgId: `m-${writes++}`, text: 'walrus-5120', ts: 1 }]);
      send();
      const post = Worker.prototype.postMessage;
      // Every copy asked for overlaps a write: no copy is ever one during which nothing was written.
      vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, message: unknown) {
        post.call(this, message);
        if (message === 'copy') send();
      });
      const began = Date.now();
      await sync.purgeDeleted();
      expect(Date.now() - began).toBeGreaterThanOrEqual(1000);
      // At least one copy, each overlapping a write; how many fit in the quiet period depends on the machine's load.
      expect(writes).toBeGreaterThanOrEqual(2);
      expect(statSync(`${file}-wal`).size).toBe(0);
    } finally {
      vi.restoreAllMocks();
      opened.store.close();
      store = openAsyncStore(file);
    }
  });
});
