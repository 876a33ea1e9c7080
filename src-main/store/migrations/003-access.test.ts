import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../store.js';
import { addUser, eachTestFolder, sqliteAt } from './test-migrations.js';

const folder = eachTestFolder();

describe('003-access', () => {
  it('marks the accounts of a version-2 database active', () => {
    const file = join(folder(), 'v2.sqlite');
    const db = sqliteAt(file, 2);
    addUser(db, 'Ali');
    db.close();

    const store = openStore(file);
    expect(store.userByKey('ali')?.status).toBe('active');
    expect(store.listUsers().map((user) => user.name)).toEqual(['Ali']);
    expect(store.bans()).toEqual([]);
    store.close();
  });
});
