import { readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { ROOM } from '../../src-shared/protocol/conversation.js';
import { LATEST_VERSION } from './migrations/index.js';
import { openDatabase } from './open.js';
import { openStore, StoreOpenError } from './store.js';
import { addUser, dir, directMessage, file, groupMessage, reopen, roomMessage, searchTexts, send, store, texts, useTestStore } from './test-sqlite-store.js';

useTestStore();


describe('opening', () => {
  it('creates the missing folder and an up-to-date database in WAL mode', async () => {
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    openStore(file).close();
  });

  it("gives the server's connection a 16 MB page cache (SQLite's default is 2 MB)", () => {
    const db = openDatabase(join(dir, 'cache.db'));
    expect(db.pragma('cache_size', { simple: true })).toBe(-16384);
    db.close();
  });

  it('shows a database as it was found before migrating it (what the search index was built from)', () => {
    const found: number[] = [];
    const db = openDatabase(join(dir, 'found.db'), {}, (before) => found.push(before.pragma('user_version', { simple: true }) as number));
    expect(found).toEqual([0]);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    db.close();
  });

  it('keeps everything across close and reopen', async () => {
    const ali = addUser('Ali');
    const bob = addUser('Bob');
    send(roomMessage(ali, 'Merhaba herkese'));
    send(directMessage(ali, bob, 'selam Bob'));
    const group = store.createGroup('Ekip', 'ekip', ali.id, 3000);
    store.addMember(group.id, bob.id);
    send(groupMessage(bob, group.id, 'toplantı yarın'));
    store.setRelation(ali.id, bob.id, 'accepted', ali.id, 4000);
    store.createSession('token-hash', ali.id, 5000);
    store.setDeliveredCursor(bob.id, 2);
    store.setLastSeen([{ userId: ali.id, ts: 6000, deliveredUpTo: 0 }]);

    reopen();

    expect(store.userByKey('ali')).toEqual({ ...ali, lastSeen: 6000 });
    expect(texts(store.history(ROOM, undefined, 10).messages)).toEqual(['Merhaba herkese']);
    expect(texts(store.sync(bob.id, 0, 10).messages)).toEqual(['Merhaba herkese', 'selam Bob', 'toplantı yarın']);
    expect(await searchTexts(bob.id, 'toplanti')).toEqual(['toplantı yarın']);
    expect(store.memberIds(group.id)).toEqual([ali.id, bob.id]);
    expect(store.relation(bob.id, ali.id)?.state).toBe('accepted');
    expect(store.sessionUserId('token-hash')).toBe(ali.id);
    expect(store.deliveredCursor(bob.id)).toBe(2);
    expect(store.lastMessageId()).toBe(3);
  });

  it('refuses a file that is not a database, naming the file', async () => {
    store.close();
    const junk = join(dir, 'junk.sqlite');
    writeFileSync(junk, randomBytes(64 * 1024));
    expect(() => openStore(junk)).toThrow(StoreOpenError);
    expect(() => openStore(junk)).toThrow(`"${junk}" is not a LanChat database or is damaged`);
    openStore(file).close();
  });

  it('refuses a LanChat database whose schema is damaged', async () => {
    addUser('Ali');
    store.close();
    const bytes = readFileSync(file);
    // Keep the 100-byte header, scribble over the schema table on the rest of page 1.
    randomBytes(4096 - 100).copy(bytes, 100);
    writeFileSync(file, bytes);
    expect(() => openStore(file)).toThrow(StoreOpenError);
    expect(() => openStore(file)).toThrow(/is not a LanChat database or is damaged: .*malformed/);
    rmSync(file);
    openStore(file).close();
  });

  it("refuses another application's SQLite database and leaves it alone", async () => {
    const other = join(dir, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE notes (body TEXT)');
    db.close();
    expect(() => openStore(other)).toThrow(/"[^"]*other\.sqlite" is a database of another application/);
    const check = new Database(other, { readonly: true });
    expect(check.prepare('SELECT name FROM sqlite_schema').pluck().all()).toEqual(['notes']);
    check.close();
  });

  it('refuses a database written by a newer version, without changing it', async () => {
    store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    expect(() => openStore(file)).toThrow(StoreOpenError);
    expect(() => openStore(file)).toThrow(`"${file}" was written by a newer version of LanChat`);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(LATEST_VERSION + 1);
    check.close();
    const repair = new Database(file);
    repair.pragma(`user_version = ${LATEST_VERSION}`);
    repair.close();
    openStore(file).close();
  });
});

/** The files under `folder` this process holds open, any thread's (Linux: /proc/self/fd). */
function openFilesIn(folder: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(folder)) open.push(target);
    } catch {
      // Closed since it was listed.
    }
  }
  return open;
}

describe('closing', () => {
  it.runIf(process.platform === 'linux')('resolves once its threads have let go of every file in the data folder', async () => {
    const ali = addUser('Ali');
    send(roomMessage(ali, 'hello there'));
    // The search starts a search worker and the indexer; the write, the log's copier within 200 ms.
    expect(await searchTexts(ali.id, 'hello')).toEqual(['hello there']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    // The threads hold the database as the main connection does (checked before the close: once asked to
    // stop, a thread may let go before the main thread looks again on a loaded machine)...
    expect(openFilesIn(dir).filter((path) => path === file).length).toBeGreaterThan(1);
    await store.close();
    // ...and none once it resolves: the folder can go.
    expect(openFilesIn(dir)).toEqual([]);
  });

  it('keeps a process that awaits it alive until its threads have ended', () => {
    // The threads are unref'd while the store is open; a script with nothing else to wait for would exit mid-close (code 13).
    const script = `
      import { openStore } from ${JSON.stringify(fileURLToPath(new URL('./store.ts', import.meta.url)))};
      const store = openStore(process.argv[2]);
      const ali = store.createUser({ name: 'Ali', nameKey: 'ali', skeleton: 'ali', passwordHash: 'x', createdAt: 1 });
      store.insertMessages([{ conv: 'room', senderId: ali.id, clientMsgId: 'c1', text: 'hello there', ts: 1 }]);
      await store.search(ali.id, { query: 'hello', limit: 10 });
      await new Promise((resolve) => setTimeout(resolve, 400));
      await store.close();
      console.log('closed');
    `;
    const scriptFile = join(dir, 'close.mts');
    writeFileSync(scriptFile, script);
    const run = spawnSync(process.execPath, ['--import', 'tsx', scriptFile, join(dir, 'child', 'chat.sqlite')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: 'closed\n' });
  });
});
