/**
 * File contents in the room's PostgreSQL database (`--files-store postgres`): chunks of up to 256 KiB
 * in `file_chunks` (migration 019), written and read a few at a time, so no file is ever whole in
 * memory. Every node of a cluster reads what any node wrote, a node's loss loses nothing that reached
 * the database, and the room's backup (pg_dump) holds its files. Its own small pool: a large upload
 * or download never holds a connection the chat's commits wait for.
 */
import pg from 'pg';
import { Readable, Writable } from 'node:stream';
import type { ContentStore } from './contents.js';

/** The bytes of one row: large enough that a row costs little beside its bytes, small enough to stream. */
export const CHUNK_BYTES = 256 * 1024;
/** Rows one read of a download fetches. */
const READ_PAGE_ROWS = 4;
const POOL_CONNECTIONS = 4;
/** PostgreSQL's disk_full: reported as the folder's full disk is. */
const FULL_CODES = new Set(['53100']);
/** unique_violation: the content was kept already. */
const UNIQUE_VIOLATION = '23505';

const uploadKey = (uploadId: string): string => `upload:${uploadId}`;

/** An error the server reports as a full disk (ENOSPC) when PostgreSQL said it is full. */
function asStoreError(error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && FULL_CODES.has(code)) {
    return Object.assign(new Error(`the database is full: ${(error as Error).message}`), { code: 'ENOSPC' });
  }
  return error instanceof Error ? error : new Error(String(error));
}

export class PostgresContents implements ContentStore {
  readonly folder = null;
  private readonly pool: pg.Pool;

  /** On the database at `url`, whose schema the store brought up to date (openPgStore) first. */
  constructor(url: string) {
    // A chunk's commit does not wait for its WAL to reach the disk: a crash of PostgreSQL may lose the last
    // ones, and a resume then starts where the stored bytes end. The upload's completion is a commit of the
    // store that does wait, and WAL is flushed in order, so a file recorded has its bytes on disk.
    this.pool = new pg.Pool({ connectionString: url, max: POOL_CONNECTIONS, options: '-c synchronous_commit=off' });
    // As the store's pool: a connection the server dropped must not take the process down.
    this.pool.on('error', () => {});
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  readUpload(uploadId: string): Readable {
    return this.chunks(uploadKey(uploadId), 0);
  }

  appendUpload(uploadId: string, offset: number): Writable {
    return new ChunkWriter(this.pool, uploadKey(uploadId), offset);
  }

  async keepUpload(uploadId: string, sha256: string): Promise<void> {
    try {
      await this.pool.query('UPDATE file_chunks SET key = $1 WHERE key = $2', [sha256, uploadKey(uploadId)]);
    } catch (error) {
      // Kept already, by another upload of the same bytes: this one's go.
      if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw asStoreError(error);
      await this.removeUpload(uploadId);
    }
  }

  async removeUpload(uploadId: string): Promise<void> {
    await this.pool.query('DELETE FROM file_chunks WHERE key = $1', [uploadKey(uploadId)]);
  }

  async has(sha256: string, size: number): Promise<boolean> {
    if (size === 0) return true;
    const { rows } = await this.pool.query('SELECT 1 FROM file_chunks WHERE key = $1 AND pos = 0', [sha256]);
    return rows.length > 0;
  }

  read(sha256: string, start: number): Readable {
    return this.chunks(sha256, start);
  }

  /**
   * Not while a file has the content again, nor while an upload of the same bytes is under way: another
   * node may be keeping them (its rows renamed, its file not yet recorded; one transaction records the
   * file and ends the upload, so one of the two is always seen). Then the content is an orphan again,
   * for a later sweep, unless a file has it.
   */
  async remove(sha256: string): Promise<void> {
    await this.pool.query(
      `WITH wanted AS (
         SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = $1) AS kept, EXISTS (SELECT 1 FROM uploads WHERE sha256 = $1) AS uploading
       ), removed AS (
         DELETE FROM file_chunks WHERE key = $1 AND NOT (SELECT kept OR uploading FROM wanted)
       )
       INSERT INTO orphan_blobs (sha256) SELECT $1 FROM wanted WHERE uploading AND NOT kept ON CONFLICT DO NOTHING`,
      [sha256],
    );
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /** The bytes under `key` from `start`, a page of rows at a time as the reader takes them. */
  private chunks(key: string, start: number): Readable {
    const pool = this.pool;
    async function* pages(): AsyncGenerator<Buffer> {
      let next = start;
      for (;;) {
        // From the row holding byte `next` on: the rows are contiguous, each starting where the last ended.
        const { rows } = await pool.query<{ pos: string; data: Buffer }>(
          `SELECT pos, data FROM file_chunks
           WHERE key = $1 AND pos >= coalesce((SELECT max(pos) FROM file_chunks WHERE key = $1 AND pos <= $2), 0)
           ORDER BY pos LIMIT ${READ_PAGE_ROWS}`,
          [key, next],
        );
        for (const row of rows) {
          const pos = Number(row.pos);
          if (pos > next) throw new Error(`the bytes of ${key} from ${next} to ${pos} are missing`);
          const data = row.data.subarray(next - pos);
          next += data.length;
          if (data.length > 0) yield data;
        }
        if (rows.length < READ_PAGE_ROWS) return;
      }
    }
    return Readable.from(pages(), { objectMode: false });
  }
}

/**
 * Appends to the rows of `key` from `offset`, a row per CHUNK_BYTES (the last one shorter): each
 * written before the next bytes are taken, so the stream's own buffer is the only backlog.
 */
class ChunkWriter extends Writable {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The insert under way, which a destroy waits for: no row may land after the caller removed the upload's. */
  private inserting: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly key: string,
    private pos: number,
  ) {
    super({ highWaterMark: CHUNK_BYTES });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < CHUNK_BYTES) {
      callback();
      return;
    }
    this.flush(false).then(() => callback(), (error: unknown) => callback(asStoreError(error)));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flush(true).then(() => callback(), (error: unknown) => callback(asStoreError(error)));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inserting.then(
      () => callback(error),
      () => callback(error),
    );
  }

  /** Writes the whole chunks pending, and with `all` the rest too. */
  private async flush(all: boolean): Promise<void> {
    let bytes = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    while (bytes.length >= CHUNK_BYTES || (all && bytes.length > 0)) {
      if (this.destroyed) return;
      const row = bytes.subarray(0, CHUNK_BYTES);
      bytes = bytes.subarray(row.length);
      this.inserting = this.pool.query('INSERT INTO file_chunks (key, pos, data) VALUES ($1, $2, $3)', [this.key, this.pos, row]);
      await this.inserting;
      this.pos += row.length;
    }
    if (bytes.length > 0) {
      this.pending = [bytes];
      this.pendingBytes = bytes.length;
    }
  }
}
