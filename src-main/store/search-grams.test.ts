import Database from 'better-sqlite3-multiple-ciphers';
import { describe, expect, it, vi } from 'vitest';
import { nameKey } from '../../src-shared/protocol/names.js';
import { foldForSearch } from '../../src-shared/fold.js';
import { migrate } from './migrations/sqlite.js';
import fts from './migrations/002-fts.js';
import { BLOCK_SIZE, gramsOf } from './search-grams.js';
import { searchIds } from './search.js';
import { addUser, file, groupMessage, reopen, roomMessage, searchTexts, send, store, useTestStore } from './test-sqlite-store.js';
import type { NewMessage, UserRow } from './types.js';
import { searchedText } from './searched-text.js';

useTestStore();

/** Reads the index and its state with a connection of its own, as another process would. */
function readIndex<T>(read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

function blocksOf(gram: string): number[] {
  return readIndex((db) =>
    db.prepare<[string], number>('SELECT block FROM message_grams WHERE gram = ? ORDER BY block').pluck().all(gram),
  );
}

/** The index as it should be: every gram of every message's text as searched, by block. */
function expectedIndex(db: Database.Database): string[] {
  const rows = db.prepare<[], { id: number; folded: string }>(`SELECT m.id, ${searchedText('m')} AS folded FROM messages m`).all();
  const pairs = new Set<string>();
  for (const { id, folded } of rows) for (const gram of gramsOf(folded)) pairs.add(`${Math.floor(id / BLOCK_SIZE)} ${gram}`);
  return [...pairs].sort();
}

function actualIndex(db: Database.Database): string[] {
  return db
    .prepare<[], { block: number; gram: string }>('SELECT block, gram FROM message_grams')
    .all()
    .map(({ block, gram }) => `${block} ${gram}`)
    .sort();
}

/** Waits until the store's maintainer has indexed everything and recomputed every stale block. */
async function settled(): Promise<void> {
  await vi.waitFor(
    () => {
      const pending = readIndex(
        (db) =>
          db.prepare('SELECT unindexed_below FROM message_grams_state').pluck().get() as number > 1 ||
          db.prepare('SELECT count(*) FROM message_grams_stale').pluck().get() !== 0,
      );
      expect(pending).toBe(false);
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** `count` room messages from `sender`; the one at each index of `special` gets that text instead. */
function fillRoom(sender: UserRow, count: number, special: Record<number, string> = {}): void {
  const batch: NewMessage[] = [];
  for (let i = 0; i < count; i++) batch.push(roomMessage(sender, special[i] ?? `lorem ipsum ${i}`));
  store.insertMessages(batch);
}

describe('the short-needle index', () => {
  it('lists exactly the blocks whose messages hold a one- or two-letter gram, folded, and searches find them', async () => {
    const ali = addUser('Ali');
    // ids 1..5000: five blocks; "quiz" (q, qu) in the third block only, "Şeker" (folded: seker) in the fifth.
    fillRoom(ali, 5000, { 2500: 'a quiz', 4500: 'Şeker ☕😀' });
    expect(blocksOf('q')).toEqual([Math.floor(2501 / BLOCK_SIZE)]);
    expect(blocksOf('qu')).toEqual([Math.floor(2501 / BLOCK_SIZE)]);
    expect(blocksOf('ş')).toEqual([]);
    expect(blocksOf('s')).toContain(Math.floor(4501 / BLOCK_SIZE));
    expect(blocksOf('😀')).toEqual([Math.floor(4501 / BLOCK_SIZE)]);
    expect(blocksOf('☕😀')).toEqual([Math.floor(4501 / BLOCK_SIZE)]);
    expect(blocksOf('x')).toEqual([]);
    expect(readIndex(actualIndex)).toEqual(readIndex(expectedIndex));

    expect(await searchTexts(ali.id, 'Q')).toEqual(['a quiz']);
    expect(await searchTexts(ali.id, 'uı')).toEqual(['a quiz']);
    expect(await searchTexts(ali.id, 'ŞE')).toEqual(['Şeker ☕😀']);
    expect(await searchTexts(ali.id, '😀')).toEqual(['Şeker ☕😀']);
    expect(await searchTexts(ali.id, 'x')).toEqual([]);
    expect(await searchTexts(ali.id, 'zq')).toEqual([]);
    expect((await store.search(ali.id, { query: 'm', limit: 3 })).messages.map((m) => m.text)).toEqual([
      'lorem ipsum 4999',
      'lorem ipsum 4998',
      'lorem ipsum 4997',
    ]);
  });

  it('follows the messages stored one at a time, as the server stores them, in every block', async () => {
    const ali = addUser('Ali');
    for (let i = 0; i < 2100; i++) send(roomMessage(ali, i % 700 === 0 ? `zebra ${i}` : `lorem ${i}`));
    expect(readIndex(actualIndex)).toEqual(readIndex(expectedIndex));
    expect(await searchTexts(ali.id, 'z')).toEqual(['zebra 1400', 'zebra 700', 'zebra 0']);
  });

  it('takes the grams of an edit at once, and drops those no message of the block holds any more', async () => {
    const ali = addUser('Ali');
    fillRoom(ali, 3000, { 1500: 'a quiz' });
    const quiz = (await store.search(ali.id, { query: 'quiz', limit: 1 })).messages[0]!;
    store.editMessage(quiz.id, 'a jazz band', 10_000);
    expect(await searchTexts(ali.id, 'j')).toEqual(['a jazz band']);
    expect(await searchTexts(ali.id, 'zz')).toEqual(['a jazz band']);
    expect(await searchTexts(ali.id, 'q')).toEqual([]);
    await settled();
    expect(blocksOf('q')).toEqual([]);
    expect(blocksOf('j')).toEqual([Math.floor(quiz.id / BLOCK_SIZE)]);
    expect(readIndex(actualIndex)).toEqual(readIndex(expectedIndex));
  });

  it('forgets what deleted messages held: a deleted message and a deleted group leave no gram behind', async () => {
    const ali = addUser('Ali');
    const group = store.createGroup('club', nameKey('club'), ali.id, 1000);
    fillRoom(ali, 1500, { 100: 'the quiz' });
    send(groupMessage(ali, group.id, 'vexing jokes'));
    const quiz = (await store.search(ali.id, { query: 'quiz', limit: 1 })).messages[0]!;
    store.deleteMessage(quiz.id);
    store.deleteGroup(group.id);
    expect(await searchTexts(ali.id, 'q')).toEqual([]);
    expect(await searchTexts(ali.id, 'j')).toEqual([]);
    await settled();
    for (const gram of ['q', 'qu', 'j', 'v', 'xi']) expect(blocksOf(gram), gram).toEqual([]);
    expect(readIndex(actualIndex)).toEqual(readIndex(expectedIndex));
  });

  it('starts over on a block that changes while it is recomputed, and keeps the grams of what was stored meanwhile', async () => {
    const ali = addUser('Ali');
    fillRoom(ali, 200, { 10: 'the quiz', 20: 'of jazz' });
    const [quiz, jazz] = [11, 21];
    store.deleteMessage(quiz);
    // Stored and edited while the maintainer may be between steps of the same block.
    send(roomMessage(ali, 'wax'));
    store.editMessage(jazz, 'of yaks', 10_000);
    send(roomMessage(ali, 'vow'));
    await settled();
    expect(readIndex(actualIndex)).toEqual(readIndex(expectedIndex));
    expect(await searchTexts(ali.id, 'w')).toEqual(['vow', 'wax']);
  });

  it('is built in the background for a database from before it, whose messages searches read until then', async () => {
    const ali = addUser('Ali');
    store.close();
    // The messages of an older version: its schema, its rows, no index.
    const old = new Database(file);
    old.exec('DROP TRIGGER message_grams_refold; DROP TRIGGER message_grams_forget; DROP TABLE message_grams;');
    old.exec('DROP TABLE message_grams_state; DROP TABLE message_grams_stale; PRAGMA user_version = 12;');
    old.exec('DROP TABLE message_log_state; DROP TRIGGER conv_events_share_ids;');
    old.exec('DROP TRIGGER message_search_refold; DROP TRIGGER message_search_forget; DROP TABLE message_search_changed; DROP TABLE search_index_key;');
    old.exec('DROP INDEX uploads_by_user; ALTER TABLE uploads DROP COLUMN received; ALTER TABLE uploads DROP COLUMN active_at;');
    old.exec('DROP INDEX files_by_mls_frame; ALTER TABLE files DROP COLUMN mls_frame_id;');
    old.exec('DROP TABLE mls_welcomes; DROP TABLE mls_frames; DROP TABLE mls_conversations; DROP TABLE mls_key_packages; DROP TABLE mls_devices;');
    old.exec('ALTER TABLE messages DROP COLUMN call_event;');
    const insert = old.prepare<[number, string, string, string]>(
      "INSERT INTO messages (conv, sender_id, client_msg_id, text, folded, ts) VALUES ('room', ?, ?, ?, ?, 1)",
    );
    old.transaction(() => {
      for (let i = 0; i < 20_000; i++) {
        const text = i === 3 ? 'Quiz İstanbul' : i === 19_000 ? 'jazz' : `lorem ipsum ${i}`;
        insert.run(ali.id, `old-${i}`, text, text === 'Quiz İstanbul' ? 'quiz istanbul' : text);
      }
    })();
    // That version's trigram index (migration 002) and the trigger keeping it in step (009), which migration 015 drops.
    old.exec(fts.sqlite);
    old.exec('CREATE TRIGGER messages_refold AFTER UPDATE OF folded ON messages BEGIN SELECT 1; END;');
    // Migrated, and not yet indexed: what the search worker reads before the store's maintainer has run.
    migrate(old);
    const search = searchIds(old);
    const idsOf = (query: string): Promise<number[]> => search(ali.id, { query, limit: 10 }, new AbortController().signal);
    expect(await idsOf('q')).toEqual([4]);
    expect(await idsOf('j')).toEqual([19_001]);
    expect(await idsOf('x')).toEqual([]);
    old.close();

    reopen();
    send(roomMessage(ali, 'a new quiz'));
    expect(await searchTexts(ali.id, 'qu')).toEqual(['a new quiz', 'Quiz İstanbul']);
    await settled();
    expect(readIndex(actualIndex)).toEqual(readIndex(expectedIndex));
    expect(await searchTexts(ali.id, 'qu')).toEqual(['a new quiz', 'Quiz İstanbul']);
    expect(await searchTexts(ali.id, 'x')).toEqual([]);
  });
});

describe('the short-needle index and characters SQLite stores as they came', () => {
  // A NUL, a lone surrogate (stored in its three-byte form, read back as U+FFFD if read as text), an astral character.
  const odd = ['x\0y', 'a\ud800z', '😀w'];

  /** The index's rows as bytes, and the rows it should have for `texts` (by id), as bytes too. */
  function indexBytes(texts: Map<number, string>): { actual: string[]; expected: string[] } {
    return readIndex((db) => {
      const hex = db.prepare<[string], string>('SELECT hex(?)').pluck();
      const pairs = new Set<string>();
      for (const [id, text] of texts) for (const gram of gramsOf(foldForSearch(text))) pairs.add(`${Math.floor(id / BLOCK_SIZE)} ${hex.get(gram)}`);
      return {
        actual: db.prepare<[], string>("SELECT block || ' ' || hex(gram) FROM message_grams").pluck().all().sort(),
        expected: [...pairs].sort(),
      };
    });
  }

  it('indexes them as searches look them up, on insert, on edit, when rebuilt and when recomputed', async () => {
    const ali = addUser('Ali');
    const texts = new Map<number, string>();
    for (const text of odd) texts.set(send(roomMessage(ali, text)).id, text);
    const edited = send(roomMessage(ali, 'plain')).id;
    store.editMessage(edited, 'b\udc00c', 5);
    texts.set(edited, 'b\udc00c');
    const deleted = send(roomMessage(ali, 'q\ud801')).id;
    store.deleteMessage(deleted);
    await settled();
    const after = indexBytes(texts);
    expect(after.actual).toEqual(after.expected);
    for (const query of ['\0', '\0y', 'a\ud800', '\ud800z', '😀w', '\udc00c']) expect(await searchTexts(ali.id, query), query).toHaveLength(1);

    // Rebuilt from the stored bytes, as for a database from before the index.
    store.close();
    const db = new Database(file);
    db.exec('DELETE FROM message_grams; UPDATE message_grams_state SET unindexed_below = (SELECT max(id) + 1 FROM messages)');
    db.close();
    reopen();
    await settled();
    expect(indexBytes(texts).actual).toEqual(after.expected);
  });
});

describe('gramsOf', () => {
  it('lists every one- and two-character gram once, by code point, whatever the script', () => {
    expect(gramsOf('abab')).toEqual(['a', 'b', 'ab', 'ba']);
    expect(gramsOf('a😀é')).toEqual(['a', '😀', 'a😀', 'é', '😀é']);
    expect(gramsOf('a\0b')).toEqual(['a', '\0', 'a\0', 'b', '\0b']);
    expect(gramsOf('\ud800x')).toEqual(['\ud800', 'x', '\ud800x']);
    expect(gramsOf('')).toEqual([]);
  });
});
