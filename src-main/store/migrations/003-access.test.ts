import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store.js';
import { addUser, sqliteAt } from './test-migrations.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lanchat-migration-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('003-access', () => {
  it('marks the accounts of a version-2 database active', () => {
    const file = join(dir, 'v2.sqlite');
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
