import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it } from 'vitest';
import { openStore } from '../store.js';
import { LATEST_VERSION } from './index.js';
import { schemaVersion } from './sqlite.js';
import { addUser, eachTestFolder, sqliteAt } from './test-migrations.js';

const folder = eachTestFolder();

describe('002-fts', () => {
  it('indexes the messages of a version-1 database', async () => {
    const file = join(folder(), 'v1.sqlite');
    const db = sqliteAt(file, 1);
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
});
