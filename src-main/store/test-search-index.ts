/**
 * For the SQLite store's tests: waiting for the indexer thread (search-index.ts) to catch up, and
 * checking that its index then lists exactly the messages that have text to find.
 */
import Database from 'better-sqlite3';
import { expect, vi } from 'vitest';
import { indexCaughtUp, indexFileOf } from './search-index.js';

/** Waits until the indexer has reached every committed change; the store must be open and have searched once (which starts it). */
export async function indexerCaughtUp(file: string): Promise<void> {
  await vi.waitFor(() => expect(indexCaughtUp(file)).toBe(true), { timeout: 20_000, interval: 20 });
}

/** After indexerCaughtUp: FTS5's own check of the index file, and its messages are exactly those with text. */
export function expectIndexMatchesMessages(file: string): void {
  const index = new Database(indexFileOf(file));
  const db = new Database(file, { readonly: true });
  try {
    expect(() => index.prepare("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    expect(index.prepare('SELECT rowid FROM message_search ORDER BY rowid').pluck().all()).toEqual(
      db.prepare("SELECT id FROM messages WHERE folded <> '' ORDER BY id").pluck().all(),
    );
  } finally {
    index.close();
    db.close();
  }
}
