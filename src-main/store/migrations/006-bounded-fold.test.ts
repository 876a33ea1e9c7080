import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { openStore } from '../store.js';
import { expectIndexMatchesMessages, indexerCaughtUp } from '../test-search-index.js';
import { addUser, eachTestFolder, sqliteAt } from './test-migrations.js';

const folder = eachTestFolder();

describe('006-bounded-fold', () => {
  it('refolds the messages of a version-5 database whose stored form outgrew the text, in the search index too', async () => {
    const file = join(folder(), 'v5.sqlite');
    const db = sqliteAt(file, 5);
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
});
