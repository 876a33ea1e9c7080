import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ROOM } from '../../src-shared/protocol/conversation.js';
import { openAsyncStore } from './async-store.js';
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
});
