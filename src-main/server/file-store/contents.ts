/**
 * Where the bytes of files are kept (docs/PROTOCOL.md §18), one interface whatever keeps them: a folder
 * (`folder.ts`: the host's own, or one every node of a cluster mounts) or the room's PostgreSQL database
 * (`postgres.ts`). An upload's bytes so far are kept under its id; once finished and checked, they become
 * a content, kept once per distinct SHA-256 whatever number of files have it. The rows that say which
 * files and uploads exist are the store's (store/files.ts); this keeps only bytes.
 */
import type { Readable, Writable } from 'node:stream';

export interface ContentStore {
  /** The folder the bytes are in, for its free space (the admin port's metrics and /readyz); null when they are in the database. */
  readonly folder: string | null;
  /** The bytes an upload holds so far, in order (none before its first). */
  readUpload(uploadId: string): Readable;
  /**
   * Appends to an upload's bytes, which number `offset`. Ended, it stores every byte written; destroyed
   * (a cut link), what it has not stored yet is dropped. Its 'close' comes only once nothing more can
   * reach the store; a full store fails it with code ENOSPC.
   */
  appendUpload(uploadId: string, offset: number): Writable;
  /** The upload's bytes become content `sha256`; when that content is kept already they are dropped instead. */
  keepUpload(uploadId: string, sha256: string): Promise<void>;
  /** Drops an upload's bytes (none is not an error). */
  removeUpload(uploadId: string): Promise<void>;
  /** Whether content `sha256`, of `size` bytes, is kept. */
  has(sha256: string, size: number): Promise<boolean>;
  /** A content's bytes from `start`. */
  read(sha256: string, start: number): Readable;
  /** Drops a content no file has any more: the caller found it an orphan (store.takeOrphanBlobs). */
  remove(sha256: string): Promise<void>;
  close(): Promise<void>;
}

/** Which store keeps the bytes of a room's files: `--files-store` (cli/host-args.ts). */
export const CONTENT_STORE_KINDS = ['folder', 'postgres'] as const;
export type ContentStoreKind = (typeof CONTENT_STORE_KINDS)[number];
