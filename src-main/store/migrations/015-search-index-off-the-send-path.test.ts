import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { foldForSearch } from '../../../src-shared/fold.js';
import { openStore } from '../store.js';
import { expectIndexMatchesMessages, indexerCaughtUp } from '../test-search-index.js';
import { addUser, eachTestFolder, sqliteAt } from './test-migrations.js';

const folder = eachTestFolder();

describe('015-search-index-off-the-send-path', () => {
  it('moves the search index of a version-14 database to the indexer, whose messages searches find before and after it has rebuilt it', async () => {
    const file = join(folder(), 'v14.sqlite');
    const db = sqliteAt(file, 14);
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
