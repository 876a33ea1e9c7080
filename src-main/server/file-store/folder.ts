/**
 * File contents in a folder: an upload's bytes in `partial/<upload id>`, a content in
 * `<first two of the sha256>/<sha256>` (content-addressed). A single host's is in its data folder;
 * the nodes of a cluster may share one over a network file system (`--files-dir`).
 */
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type { ContentStore } from './contents.js';

/** A content is read in chunks this large. */
export const READ_CHUNK_BYTES = 256 * 1024;
/** An upload's partial file takes this much before the link is paused: fewer, larger disk writes. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

export class FolderContents implements ContentStore {
  constructor(readonly folder: string) {
    mkdirSync(join(folder, 'partial'), { recursive: true, mode: 0o700 });
  }

  readUpload(uploadId: string): Readable {
    const path = this.partialPath(uploadId);
    let size: number;
    try {
      size = statSync(path).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Readable.from([]);
      throw error;
    }
    // Up to the size it had when asked: nothing appends to it then.
    return size === 0 ? Readable.from([]) : createReadStream(path, { end: size - 1, highWaterMark: READ_CHUNK_BYTES });
  }

  appendUpload(uploadId: string): Writable {
    return createWriteStream(this.partialPath(uploadId), { flags: 'a', mode: 0o600, highWaterMark: WRITE_BUFFER_BYTES });
  }

  keepUpload(uploadId: string, sha256: string): Promise<void> {
    const blob = this.blobPath(sha256);
    mkdirSync(join(blob, '..'), { recursive: true, mode: 0o700 });
    // Kept already (another node of a shared folder): the same bytes take its place.
    renameSync(this.partialPath(uploadId), blob);
    return Promise.resolve();
  }

  removeUpload(uploadId: string): Promise<void> {
    rmSync(this.partialPath(uploadId), { force: true });
    return Promise.resolve();
  }

  has(sha256: string): Promise<boolean> {
    return Promise.resolve(existsSync(this.blobPath(sha256)));
  }

  read(sha256: string, start: number): Readable {
    return createReadStream(this.blobPath(sha256), { start, highWaterMark: READ_CHUNK_BYTES });
  }

  remove(sha256: string): Promise<void> {
    rmSync(this.blobPath(sha256), { force: true });
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private partialPath(id: string): string {
    return join(this.folder, 'partial', id);
  }

  private blobPath(sha256: string): string {
    return join(this.folder, sha256.slice(0, 2), sha256);
  }
}
