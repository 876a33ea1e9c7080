/**
 * The helper of the tests of what only the SQLite store has (opening the file, its
 * migrations, the short-needle index, the search pool): a real store, called as the
 * synchronous ServerStore, in a fresh temporary folder for each test (useTestStore).
 * The feature tests run on every backend through test-store.ts. `store` and `file`
 * are live bindings: importers see the store that reopen() puts in place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { type ChatMessage } from '../../src-shared/protocol/objects.js';
import { openStore, type StoreOptions } from './store.js';
import { stored, texts } from './test-store.js';
import type { NewMessage, ServerStore, UserRow } from './types.js';

export { directMessage, groupMessage, roomMessage, texts } from './test-store.js';

export let dir: string;
export let file: string;
export let store: ServerStore;

/** Opens a store before each test of the calling file and removes its folder after. */
export function useTestStore(): void {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lanchat-store-'));
    file = join(dir, 'data', 'chat.sqlite');
    store = openStore(file);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

export function reopen(options: StoreOptions = {}): void {
  store.close();
  store = openStore(file, options);
}

export function addUser(name: string): UserRow {
  const key = name.toLowerCase();
  return store.createUser({ name, nameKey: key, skeleton: key, passwordHash: `hash-of-${name}`, createdAt: 1000 });
}

/** Stores one message the way the server does (a batch of one) and returns it as stored. */
export function send(message: NewMessage): ChatMessage {
  return stored(store.insertMessages([message])[0]!).message;
}

export async function searchTexts(userId: number, query: string, personId?: number): Promise<string[]> {
  return texts((await store.search(userId, { query, limit: 100, ...(personId !== undefined ? { personId } : {}) })).messages);
}
