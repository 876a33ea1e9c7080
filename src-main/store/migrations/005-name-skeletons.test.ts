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

describe('005-name-skeletons', () => {
  it('gives the accounts of a version-4 database every skeleton of their names, the older account first', () => {
    const file = join(dir, 'v4.sqlite');
    const db = sqliteAt(file, 4);
    addUser(db, 'william');
    addUser(db, 'wilIiam');
    db.close();

    const store = openStore(file);
    expect(store.userBySkeleton('williarn')?.name).toBe('william');
    expect(store.userBySkeleton('WlLLlAM')?.name).toBe('william');
    expect(store.userBySkeleton('wiliiarn')?.name).toBe('wilIiam');
    store.close();
  });
});
