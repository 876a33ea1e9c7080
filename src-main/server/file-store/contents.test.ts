/**
 * The content stores' one contract (contents.ts), each on the real thing: a folder on disk, and
 * PostgreSQL's `file_chunks` on the run's server (pg/testing.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyTestDatabase, postgresMissing } from '../../store/pg/testing.js';
import type { ContentStore } from './contents.js';
import { FolderContents } from './folder.js';
import { CHUNK_BYTES, PostgresContents } from './postgres.js';

async function bytesOf(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes `bytes` in pieces of `piece`, as a socket hands them over, then ends. */
async function append(out: Writable, bytes: Buffer, piece = 64 * 1024): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => {
    out.once('close', resolve);
    out.once('error', reject);
  });
  for (let at = 0; at < bytes.length; at += piece) {
    if (!out.write(bytes.subarray(at, at + piece))) await new Promise((resolve) => out.once('drain', resolve));
  }
  out.end();
  await closed;
}

const sha = (n: number): string => n.toString(16).padStart(64, '0');

const kinds: [string, string | undefined, () => Promise<{ contents: ContentStore; done: () => Promise<void> }>][] = [
  [
    'a folder',
    undefined,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lanchat-contents-'));
      return { contents: new FolderContents(dir), done: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'PostgreSQL',
    postgresMissing,
    async () => {
      const contents = new PostgresContents(await emptyTestDatabase());
      return { contents, done: () => contents.close() };
    },
  ],
];

describe.each(kinds)('file contents in %s', (_kind, missing, open) => {
  let contents: ContentStore;
  let done: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    if (missing) return;
    ({ contents, done } = await open());
  });
  afterEach(() => done?.());

  it.skipIf(missing !== undefined)('keep an upload cut and resumed at the bytes held, byte for byte, read from any offset', async () => {
    const bytes = randomBytes(2 * CHUNK_BYTES + 12_345);
    expect(await bytesOf(contents.readUpload('u1'))).toEqual(Buffer.alloc(0));
    // Cut inside a chunk: the store holds what it took, and the resume appends from there.
    const cut = CHUNK_BYTES + 1000;
    await append(contents.appendUpload('u1', 0), bytes.subarray(0, cut), 10_000);
    const held = await bytesOf(contents.readUpload('u1'));
    expect(held.equals(bytes.subarray(0, cut))).toBe(true);
    await append(contents.appendUpload('u1', held.length), bytes.subarray(cut));
    expect((await bytesOf(contents.readUpload('u1'))).equals(bytes)).toBe(true);

    await contents.keepUpload('u1', sha(1));
    expect(await bytesOf(contents.readUpload('u1'))).toEqual(Buffer.alloc(0));
    expect(await contents.has(sha(1), bytes.length)).toBe(true);
    for (const start of [0, 1, cut - 1, cut, CHUNK_BYTES, 2 * CHUNK_BYTES + 1, bytes.length - 1, bytes.length]) {
      expect((await bytesOf(contents.read(sha(1), start))).equals(bytes.subarray(start)), `from ${start}`).toBe(true);
    }
  });

  it.skipIf(missing !== undefined)('keep a content once: a second upload of the same bytes is dropped, the first stays', async () => {
    const bytes = randomBytes(CHUNK_BYTES + 5);
    await append(contents.appendUpload('a', 0), bytes);
    await append(contents.appendUpload('b', 0), bytes);
    await contents.keepUpload('a', sha(2));
    await contents.keepUpload('b', sha(2));
    expect(await bytesOf(contents.readUpload('b'))).toEqual(Buffer.alloc(0));
    expect((await bytesOf(contents.read(sha(2), 0))).equals(bytes)).toBe(true);

    await contents.remove(sha(2));
    expect(await contents.has(sha(2), bytes.length)).toBe(false);
    await append(contents.appendUpload('c', 0), bytes);
    await contents.removeUpload('c');
    expect(await bytesOf(contents.readUpload('c'))).toEqual(Buffer.alloc(0));
  });

  it.skipIf(missing !== undefined)('keep an empty file', async () => {
    await append(contents.appendUpload('e', 0), Buffer.alloc(0));
    await contents.keepUpload('e', sha(3));
    expect(await contents.has(sha(3), 0)).toBe(true);
    expect(await bytesOf(contents.read(sha(3), 0))).toEqual(Buffer.alloc(0));
  });

  it.skipIf(missing !== undefined)('write nothing more once a destroyed upload closed: removed then, it stays removed', async () => {
    const out = contents.appendUpload('d', 0);
    const closed = new Promise((resolve) => out.once('close', resolve));
    out.write(randomBytes(4 * CHUNK_BYTES));
    out.destroy();
    await closed;
    await contents.removeUpload('d');
    expect(await bytesOf(contents.readUpload('d'))).toEqual(Buffer.alloc(0));
  });
});

describe.skipIf(postgresMissing !== undefined)('file contents in PostgreSQL', () => {
  it('keep a content found an orphan while a file has it again (another node kept the same bytes meanwhile)', async () => {
    const url = await emptyTestDatabase();
    const contents = new PostgresContents(url);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const bytes = randomBytes(1000);
      await append(contents.appendUpload('k', 0), bytes);
      await contents.keepUpload('k', sha(4));
      await db.query('INSERT INTO blobs (sha256, size) VALUES ($1, $2)', [sha(4), bytes.length]);
      await contents.remove(sha(4));
      expect((await bytesOf(contents.read(sha(4), 0))).equals(bytes)).toBe(true);

      // Nor while an upload of the same bytes may be keeping them: an orphan again, for the next sweep.
      await db.query('DELETE FROM blobs');
      await db.query("INSERT INTO users (name, name_key, skeleton, password_hash, created_at) VALUES ('Ali', 'ali', 'ali', 'x', 0)");
      await db.query("INSERT INTO uploads (id, user_id, name, size, sha256, created_at) VALUES ('u', 1, 'a.bin', $1, $2, 0)", [bytes.length, sha(4)]);
      await contents.remove(sha(4));
      expect((await bytesOf(contents.read(sha(4), 0))).equals(bytes)).toBe(true);
      expect((await db.query('SELECT sha256 FROM orphan_blobs')).rows).toEqual([{ sha256: sha(4) }]);
      await db.query('DELETE FROM uploads');
      await contents.remove(sha(4));
      expect(await contents.has(sha(4), bytes.length)).toBe(false);
    } finally {
      await db.end();
      await contents.close();
    }
  });
});
