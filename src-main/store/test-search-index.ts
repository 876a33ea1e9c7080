/**
 * For the SQLite store's tests: waiting for the indexer thread (search-index.ts) to catch up, and
 * checking that its index then lists exactly the messages that have text to find.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { expect, vi } from 'vitest';
import { indexCaughtUp, indexFileOf } from './search-index.js';
import { searchedText } from './searched-text.js';

/** Waits until the indexer has reached every committed change; the store must be open and have searched once (which starts it). */
export async function indexerCaughtUp(file: string): Promise<void> {
  await vi.waitFor(() => expect(indexCaughtUp(file)).toBe(true), { timeout: 20_000, interval: 20 });
}

/**
 * Deletes FTS5's structure record (id 10) from the index of the database `file`, as a damaged disk
 * could lose it: every read and write of the index then fails. Returns what puts it back.
 */
export function loseIndexStructure(file: string): () => void {
  const index = new Database(indexFileOf(file));
  // Lets this connection write FTS5's own tables, which SQLite's defensive mode keeps from it.
  index.unsafeMode(true);
  const structure = index.prepare<[], Buffer>('SELECT block FROM message_search_data WHERE id = 10').pluck().get()!;
  index.prepare('DELETE FROM message_search_data WHERE id = 10').run();
  return () => {
    index.prepare('INSERT INTO message_search_data (id, block) VALUES (10, ?)').run(structure);
    index.close();
  };
}

/** After indexerCaughtUp: FTS5's own check of the index file, and its messages are exactly those with text. */
export function expectIndexMatchesMessages(file: string): void {
  const index = new Database(indexFileOf(file));
  const db = new Database(file, { readonly: true });
  try {
    expect(() => index.prepare("INSERT INTO message_search (message_search, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
    expect(index.prepare('SELECT rowid FROM message_search ORDER BY rowid').pluck().all()).toEqual(
      db.prepare(`SELECT m.id FROM messages m WHERE ${searchedText('m')} <> '' ORDER BY m.id`).pluck().all(),
    );
  } finally {
    index.close();
    db.close();
  }
}
