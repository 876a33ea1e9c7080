import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../store.js';
import { addUser, eachTestFolder, sqliteAt } from './test-migrations.js';

const folder = eachTestFolder();

describe('005-name-skeletons', () => {
  it('gives the accounts of a version-4 database every skeleton of their names, the older account first', () => {
    const file = join(folder(), 'v4.sqlite');
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
