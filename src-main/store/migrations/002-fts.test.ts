import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store.js';
import { LATEST_VERSION } from './index.js';
import { schemaVersion } from './sqlite.js';
import { addUser, sqliteAt } from './test-migrations.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lanchat-migration-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('002-fts', () => {
  it('indexes the messages of a version-1 database', async () => {
    const file = join(dir, 'v1.sqlite');
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
