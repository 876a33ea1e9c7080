import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPLICATION_ID, LATEST_VERSION, migrate, migrations, schemaVersion } from './migrations.js';
import { foldForSearch } from '../../src-shared/fold.js';
import { openStore } from './store.js';
import { expectIndexMatchesMessages, indexerCaughtUp } from './test-search-index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lanchat-migrations-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** An account as every version's users table holds it, its name key and skeleton the name in lower case. */
function addUser(db: Database.Database, name: string): void {
  const key = name.toLowerCase();
  db.prepare("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES (?, ?, ?, 'x', 0)").run(name, key, key);
}

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
    expect(tables).toEqual(expect.arrayContaining(['users', 'messages', 'chat_groups', 'message_search_changed', 'search_index_key']));
    migrate(db);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    db.close();
  });

  it('index the messages of a version-1 database when adding full-text search', async () => {
    const file = join(dir, 'v1.sqlite');
    const db = new Database(file);
    migrate(db, 1);
    expect(schemaVersion(db)).toBe(1);
    addUser(db, 'Ali');
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
    addUser(db, 'Ali');
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
    addUser(db, 'william');
    addUser(db, 'wilIiam');
    db.close();

    const store = openStore(file);
    expect(store.userBySkeleton('williarn')?.name).toBe('william');
    expect(store.userBySkeleton('WlLLlAM')?.name).toBe('william');
    expect(store.userBySkeleton('wiliiarn')?.name).toBe('wilIiam');
    store.close();
  });

  it('refold the messages of a version-5 database whose stored form outgrew the text, in the search index too', async () => {
    const file = join(dir, 'v5.sqlite');
    const db = new Database(file);
    migrate(db, 5);
    addUser(db, 'Ali');
    const add = db.prepare("INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts) VALUES ('room', 1, ?, ?, ?, 5)");
    add.run('c1', 'selam \ufdfa', 'selam ' + '\ufdfa'.normalize('NFKD'));
    add.run('c2', 'Merhaba', 'merhaba');
    db.exec("INSERT INTO message_search (message_search) VALUES ('rebuild')");
    db.close();

    const store = openStore(file);
    expect((await store.search(1, { query: 'M \ufdfa', limit: 10 })).messages.map((message) => message.id)).toEqual([1]);
    await indexerCaughtUp(file);
    expectIndexMatchesMessages(file);
    expect((await store.search(1, { query: 'M \ufdfa', limit: 10 })).messages.map((message) => message.id)).toEqual([1]);
    store.close();
    const check = new Database(file);
    expect(check.prepare('SELECT folded FROM messages ORDER BY id').pluck().all()).toEqual(['selam \ufdfa', 'merhaba']);
    check.close();
  });

  it('keep the messages of a version-7 database as people wrote them when adding group invitations and membership lines', () => {
    const file = join(dir, 'v7.sqlite');
    const db = new Database(file);
    migrate(db, 7);
    addUser(db, 'Ali');
    db.prepare("INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES ('Ekip', 'ekip', 1, 0)").run();
    db.prepare(
      "INSERT INTO messages (conv, sender_id, group_id, client_msg_id, text, folded, ts) VALUES ('group:1', 1, 1, 'c1', 'Selam', 'selam', 5)",
    ).run();
    db.close();

    const store = openStore(file);
    const [message] = store.history('group:1', undefined, 10).messages;
    expect(message).toEqual({ id: 1, conv: 'group:1', from: 'Ali', groupId: 1, text: 'Selam', ts: 5, clientMsgId: 'c1' });
    expect(store.invitationsOf(1)).toEqual([]);
    store.close();
  });

  it('keep the event log of a version-13 database in order when its messages become their own entries', () => {
    const file = join(dir, 'v13.sqlite');
    const db = new Database(file);
    migrate(db, 13);
    addUser(db, 'Ali');
    addUser(db, 'Bob');
    db.prepare("INSERT INTO chat_groups (name, name_key, owner_id, created_at) VALUES ('Ekip', 'ekip', 1, 0)").run();
    db.prepare('INSERT INTO group_members (group_id, user_id) VALUES (1, 1), (1, 2)').run();
    const addMessage = db.prepare('INSERT INTO messages (conv, sender_id, group_id, client_msg_id, text, folded, ts) VALUES (?, ?, ?, ?, ?, ?, 5)');
    addMessage.run('room', 1, null, 'c1', 'one', 'one');
    addMessage.run('room', 2, null, 'c2', 'two', 'two');
    addMessage.run('group:1', 2, 1, 'c3', 'hi @Ali', 'hi @ali');
    // As the version-13 store logged them: a message entry per message, an edit, Bob's read position.
    db.exec(`
      INSERT INTO conv_events (conv, kind, message_id, user_id, up_to) VALUES
        ('room', 'message', 1, NULL, NULL), ('room', 'message', 2, NULL, NULL), ('room', 'edit', 1, NULL, NULL),
        ('room', 'read', NULL, 2, 2), ('group:1', 'message', 3, NULL, NULL);
      UPDATE messages SET change_event = 3 WHERE id = 1;
      INSERT INTO read_cursors (user_id, conv, up_to, event_id) VALUES (2, 'room', 2, 4);
      INSERT INTO reactions (message_id, user_id, emoji) VALUES (3, 1, '👍');
      INSERT INTO mentions (user_id, conv, message_id) VALUES (1, 'group:1', 3);
    `);
    db.close();

    const store = openStore(file);
    const entries = (after: number): [number, string][] =>
      store.events(1, after, 50).events.map((event) => [event.eventId, event.kind === 'read' ? 'read' : `${event.kind} ${event.message.id}`]);
    expect(store.lastEventId()).toBe(5);
    expect(entries(0)).toEqual([[1, 'message 1'], [2, 'message 2'], [3, 'edit 1'], [5, 'message 3']]);
    expect(store.messageIdAtEvent(4)).toBe(2);
    expect(store.messageIdAtEvent(5)).toBe(3);

    // New messages and entries take ids above every old entry and message, from one sequence.
    const [sent] = store.insertMessages([{ conv: 'room', senderId: 2, clientMsgId: 'c4', text: 'four', ts: 6 }]);
    expect(sent).toMatchObject({ message: { id: 6 }, eventId: 6 });
    const edited = store.editMessage(6, 'four, edited', 7);
    expect(edited.eventId).toBe(7);
    const [next] = store.insertMessages([{ conv: 'room', senderId: 1, clientMsgId: 'c5', text: 'five', ts: 8 }]);
    expect(next).toMatchObject({ message: { id: 8 }, eventId: 8 });
    expect(entries(0)).toEqual([[1, 'message 1'], [2, 'message 2'], [3, 'edit 1'], [5, 'message 3'], [6, 'message 6'], [7, 'edit 6'], [8, 'message 8']]);
    expect(entries(5)).toEqual([[6, 'message 6'], [7, 'edit 6'], [8, 'message 8']]);
    expect(store.messageIdAtEvent(7)).toBe(6);
    expect(store.lastEventId()).toBe(8);

    // A group deleted takes the reactions and mentions of its old messages too.
    store.deleteGroup(1);
    store.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT count(*) FROM reactions').pluck().get()).toBe(0);
    expect(check.prepare('SELECT count(*) FROM mentions').pluck().get()).toBe(0);
    expect(check.prepare("SELECT count(*) FROM conv_events WHERE conv = 'group:1'").pluck().get()).toBe(0);
    check.close();
  });

  it('move the search index of a version-14 database to the indexer, whose messages searches find before and after it has rebuilt it', async () => {
    const file = join(dir, 'v14.sqlite');
    const db = new Database(file);
    migrate(db, 14);
    addUser(db, 'Ali');
    const add = db.prepare("INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts) VALUES ('room', 1, ?, ?, ?, 5)");
    for (const [clientMsgId, text] of [['c1', 'Günaydın'], ['c2', 'iyi akşamlar']]) add.run(clientMsgId, text, foldForSearch(text!));
    db.exec("INSERT INTO message_search (message_search) VALUES ('rebuild')");
    // Edited through version 14's trigger, which keeps its index in step.
    db.prepare("UPDATE messages SET text = ?, folded = ? WHERE client_msg_id = 'c2'").run('İyi geceler', foldForSearch('İyi geceler'));
    db.close();

    const store = openStore(file);
    const found = async (query: string): Promise<string[]> => (await store.search(1, { query, limit: 10 })).messages.map((message) => message.text);
    expect(await found('günay')).toEqual(['Günaydın']);
    expect(await found('gece')).toEqual(['İyi geceler']);
    expect(await found('akşam')).toEqual([]);
    await indexerCaughtUp(file);
    expectIndexMatchesMessages(file);
    expect(await found('günay')).toEqual(['Günaydın']);
    expect(await found('gece')).toEqual(['İyi geceler']);
    store.close();
    const check = new Database(file);
    expect(check.prepare("SELECT count(*) FROM sqlite_schema WHERE name IN ('message_search', 'messages_refold')").pluck().get()).toBe(0);
    check.close();
  });
});
