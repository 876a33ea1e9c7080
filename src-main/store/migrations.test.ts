import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPLICATION_ID, LATEST_VERSION, migrate, migrations, schemaVersion } from './migrations.js';
import { openStore } from './store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lanchat-migrations-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('migrations', () => {
  it('are numbered upwards from 1 and named after their number', async () => {
    migrations.forEach((migration, index) => {
      expect(migration.version).toBeGreaterThan(index === 0 ? 0 : migrations[index - 1]!.version);
      expect(migration.name.startsWith(String(migration.version).padStart(3, '0') + '-')).toBe(true);
    });
    expect(migrations[0]!.version).toBe(1);
    expect(LATEST_VERSION).toBe(migrations.at(-1)!.version);
  });

  it('bring an empty database to the latest version and mark it as LanChat', async () => {
    const db = new Database(join(dir, 'empty.sqlite'));
    migrate(db);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['users', 'messages', 'chat_groups', 'message_search']));
    migrate(db);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    db.close();
  });

  it('index the messages of a version-1 database when adding full-text search', async () => {
    const file = join(dir, 'v1.sqlite');
    const db = new Database(file);
    migrate(db, 1);
    expect(schemaVersion(db)).toBe(1);
    db.prepare("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0)").run();
    db.prepare(
      `INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts)
       VALUES ('room', 1, 'c1', 'Merhaba İstanbul', 'merhaba istanbul', 5)`,
    ).run();
    db.close();

    const store = openStore(file);
    expect((await store.search(1, { query: 'ISTANBUL', limit: 10 })).messages.map((m) => m.text)).toEqual(['Merhaba İstanbul']);
    store.close();
    const reopened = new Database(file, { readonly: true });
    expect(schemaVersion(reopened)).toBe(LATEST_VERSION);
    reopened.close();
  });

  it('mark the accounts of a version-2 database active when adding access control', async () => {
    const file = join(dir, 'v2.sqlite');
    const db = new Database(file);
    migrate(db, 2);
    db.prepare("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0)").run();
    db.close();

    const store = openStore(file);
    expect(store.userByKey('ali')?.status).toBe('active');
    expect(store.listUsers().map((user) => user.name)).toEqual(['Ali']);
    expect(store.bans()).toEqual([]);
    store.close();
  });

  it('give the accounts of a version-4 database every skeleton of their names, the older account first', () => {
    const file = join(dir, 'v4.sqlite');
    const db = new Database(file);
    migrate(db, 4);
    const add = db.prepare("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES (?, ?, ?, 'x', 0)");
    add.run('william', 'william', 'william');
    add.run('wilIiam', 'wiliiam', 'wiliiam');
    db.close();

    const store = openStore(file);
    expect(store.userBySkeleton('williarn')?.name).toBe('william');
    expect(store.userBySkeleton('WlLLlAM')?.name).toBe('william');
    expect(store.userBySkeleton('wiliiarn')?.name).toBe('wilIiam');
    store.close();
  });

  it('refold the messages of a version-5 database whose stored form outgrew the text, in the search index too', () => {
    const file = join(dir, 'v5.sqlite');
    const db = new Database(file);
    migrate(db, 5);
    db.prepare("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0)").run();
    const add = db.prepare("INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts) VALUES ('room', 1, ?, ?, ?, 5)");
    add.run('c1', 'selam \ufdfa', 'selam ' + '\ufdfa'.normalize('NFKD'));
    add.run('c2', 'Merhaba', 'merhaba');
    db.exec("INSERT INTO message_search (message_search) VALUES ('rebuild')");
    db.close();

    const store = openStore(file);
    store.close();
    const check = new Database(file);
    expect(check.prepare('SELECT folded FROM messages ORDER BY id').pluck().all()).toEqual(['selam \ufdfa', 'merhaba']);
    expect(() => check.prepare("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    expect(check.prepare("SELECT rowid FROM message_search WHERE message_search MATCH '\"m \ufdfa\"'").pluck().all()).toEqual([1]);
    check.close();
  });
});
