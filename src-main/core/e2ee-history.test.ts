import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, describe, expect, it } from 'vitest';
import { E2EE_ID_BASE, type E2eeMessage } from '../../src-shared/e2ee-app.js';
import { removeDir, tempDir } from '../testing/harness.js';
import { threadId } from 'node:worker_threads';
import { DeviceHistory, historyReads, openReader } from './e2ee-history.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function folder(): string {
  const dir = tempDir('lanchat-device-history-');
  dirs.push(dir);
  return dir;
}

const message = (n: number, text: string): E2eeMessage => ({
  id: E2EE_ID_BASE + n,
  conv: 'dm:1:2',
  from: 'alice',
  to: 'bob',
  text,
  ts: 1_700_000_000_000 + n,
  clientMsgId: `c${n}`,
  e2ee: true,
});

/** The files of the folder that hold the text, as bytes. */
const holding = (dir: string, text: string): string[] =>
  readdirSync(dir).filter((name) => readFileSync(join(dir, name)).includes(Buffer.from(text)));

describe('the device history at rest', () => {
  it('holds no plaintext in its database, WAL or any other file, and reads on after a restart', async () => {
    const dir = folder();
    const key = randomBytes(32);
    const history = new DeviceHistory(join(dir, 'history.sqlite'), key);
    history.bindName(2, 'bob-the-secret-name');
    for (let n = 1; n <= 200; n++) history.put(message(n, `Gizli İstanbul planı ${n} secret-text`));
    // Open, with its WAL: what a copy of the folder taken now would hold.
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['history.sqlite', 'history.sqlite-wal']));
    for (const text of ['secret-text', 'stanbul', 'istanbul', 'bob-the-secret-name', 'alice']) expect(holding(dir, text), text).toEqual([]);
    await history.close();
    for (const text of ['secret-text', 'istanbul', 'bob-the-secret-name']) expect(holding(dir, text), text).toEqual([]);

    const again = new DeviceHistory(join(dir, 'history.sqlite'), key);
    expect(again.page('dm:1:2', undefined, 2).messages.map((m) => m.text)).toEqual(['Gizli İstanbul planı 199 secret-text', 'Gizli İstanbul planı 200 secret-text']);
    expect((await again.search('ISTANBUL PLANI 17', undefined, undefined, 50)).messages).toHaveLength(11);
    expect(again.idOf('bob-the-secret-name')).toBe(2);
    await again.close();
  });

  it('refuses a key it was not written with, saying so, and leaves the file as it was', async () => {
    const dir = folder();
    const file = join(dir, 'history.sqlite');
    const history = new DeviceHistory(file, randomBytes(32));
    history.put(message(1, 'kept'));
    await history.close();
    const before = readFileSync(file);
    expect(() => new DeviceHistory(file, randomBytes(32))).toThrow(/history\.sqlite could not be decrypted: it was saved with another key, or it was changed/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('encrypts in place a history an older app wrote in plain, and reads it on', async () => {
    const dir = folder();
    const file = join(dir, 'history.sqlite');
    // As the app before this change wrote it: plain SQLite (no key), WAL, the same table.
    const plain = new Database(file);
    plain.pragma('journal_mode = WAL');
    plain.exec('CREATE TABLE messages (id INTEGER PRIMARY KEY, conv TEXT NOT NULL, from_key TEXT NOT NULL, peer_key TEXT, folded TEXT NOT NULL, message TEXT NOT NULL)');
    const old = message(1, 'old-plain-secret');
    plain.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)').run(old.id, old.conv, 'alice', 'bob', 'old-plain-secret', JSON.stringify(old));
    plain.close();
    expect(holding(dir, 'old-plain-secret')).toEqual(['history.sqlite']);

    const key = randomBytes(32);
    const history = new DeviceHistory(file, key);
    expect(history.get(old.id)?.text).toBe('old-plain-secret');
    await history.close();
    expect(holding(dir, 'old-plain-secret')).toEqual([]);
    const again = new DeviceHistory(file, key);
    expect((await again.search('plain-secret', undefined, undefined, 10)).messages.map((m) => m.text)).toEqual(['old-plain-secret']);
    await again.close();
  });
});

describe('searching the device history', () => {
  it('reads on a thread of its own, with its own connection to the encrypted file, finding what the same statements find here', async () => {
    const file = join(folder(), 'history.sqlite');
    const key = randomBytes(32);
    const history = new DeviceHistory(file, key);
    const many = Array.from({ length: 2000 }, (_, i) => message(i + 1, `Gizli İstanbul planı ${i + 1} ışık`));
    history.putAll(many);
    // What the search is compared with: the same statements, run here on a connection of the test's.
    const connection = openReader(file, key);
    const reads = historyReads(connection);
    const queries: [string, string | undefined][] = [['istanbul', undefined], ['stanb', undefined], ['ş', undefined], ['IŞIK', undefined], ['', 'alice'], ['planı 7', 'bob'], ['zebra', undefined]];
    for (const [query, person] of queries) {
      expect(await history.search(query, person, undefined, 50), `${query} ${person}`).toEqual(reads.search(query, person, undefined, 50));
    }
    // The page after the first, and a message written just before the search is asked: WAL shows it the reader.
    const first = await history.search('istanbul', undefined, undefined, 50);
    expect(await history.search('istanbul', undefined, first.messages.at(-1)!.id, 50)).toEqual(reads.search('istanbul', undefined, first.messages.at(-1)!.id, 50));
    history.put(message(30_000, 'just written zebra'));
    expect((await history.search('zebra', undefined, undefined, 50)).messages.map((m) => m.text)).toEqual(['just written zebra']);

    // The reads ran on a thread of their own: ordering against a timer here would race the scheduler on a
    // loaded machine, so the thread is named (how long the main thread is held is the bench's figure).
    expect(history.readerThreadId).toBeGreaterThan(0);
    expect(history.readerThreadId).not.toBe(threadId);
    connection.close();
    await history.close();
    await expect(history.search('istanbul', undefined, undefined, 1)).rejects.toThrow(/closed/);
  });
});
