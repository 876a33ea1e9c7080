/**
 * Client side of file transfers (docs/PROTOCOL.md §18): each upload or download has
 * its own TLS connection to the host, checked against the pinned fingerprint and
 * authenticated by the session token (transfer-link.ts). A link that drops is opened again and the
 * transfer goes on from where the host (upload) or the local file (download) stopped;
 * the whole file's SHA-256 is checked at the end either way.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type WriteStream, createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { FileInfo } from '../../src-shared/protocol/objects.js';
import { transferResults } from '../../src-shared/protocol/transfer.js';
import { ClientError } from './errors.js';
import { type Attempts, Transfer, type TransferLink, replyError, sleep, withRetries } from './transfer-link.js';

export interface TransferProgress {
  /** Bytes the other side holds (upload) or this side holds (download), of `total`. */
  bytes: number;
  total: number;
  /** Over the last few seconds; 0 until measured. */
  bytesPerSecond: number;
  /** At the current speed; null while unknown. */
  secondsLeft: number | null;
}

interface Common extends Attempts {
  onProgress?: (progress: TransferProgress) => void;
}

export interface UploadOptions extends Common {
  /** A file on disk, or bytes in memory (the browser shell). */
  source: { path: string } | { bytes: Uint8Array };
  name: string;
  /** Known already (the App core hashes once for the thumbnail and the upload). */
  sha256?: string;
  /** An upload begun earlier (after a restart of this app): goes on from what the host holds. */
  uploadId?: string;
  /** Told the upload's id as soon as the host gives it, to resume after a restart of this app. */
  onUploadId?: (uploadId: string) => void;
}

export interface DownloadOptions extends Common {
  fileId: string;
  /** Written to `<path>.part` while it arrives (kept to resume), renamed to `path` once checked. */
  path?: string;
}

const PROGRESS_EVERY_MS = 100;
/** A download's file takes this much before it asks the link to wait: fewer, larger disk writes. */
const WRITE_BUFFER_BYTES = 1024 * 1024;
/** How long a link that failed while sending may still deliver the host's reason. */
const BYE_WAIT_MS = 1000;

/** SHA-256 of a file or of bytes, lower-case hex. */
export async function sha256Of(source: UploadOptions['source']): Promise<string> {
  const hash = createHash('sha256');
  if ('bytes' in source) return hash.update(source.bytes).digest('hex');
  for await (const chunk of createReadStream(source.path, { highWaterMark: 256 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Uploads a file; resolves with the host's description of it once the host has checked its SHA-256. */
export async function uploadFile(link: TransferLink, options: UploadOptions): Promise<FileInfo> {
  const size = 'bytes' in options.source ? options.source.bytes.length : statSync(options.source.path).size;
  const sha256 = options.sha256 ?? (await sha256Of(options.source));
  let uploadId = options.uploadId;
  const meter = new Meter(size, options.onProgress);
  return withRetries(options, async () => {
    const transfer = await Transfer.open(link, options.signal);
    try {
      const result = transferResults.upload.parse(
        await transfer.request({
          type: 'upload',
          id: 1,
          token: link.token,
          name: options.name,
          size,
          sha256,
          ...(uploadId ? { uploadId } : {}),
        }),
      );
      if (uploadId !== result.uploadId) {
        uploadId = result.uploadId;
        options.onUploadId?.(uploadId);
      }
      meter.at(result.offset);
      const source =
        'bytes' in options.source
          ? Readable.from([Buffer.from(options.source.bytes.buffer, options.source.bytes.byteOffset, size).subarray(result.offset)])
          : createReadStream(options.source.path, { start: result.offset, highWaterMark: 256 * 1024 });
      let sent = result.offset;
      // The host's last frame: `uploaded`, or a `bye` that may come before every byte is sent (a full disk).
      const last = transfer.nextFrame();
      last.catch(() => undefined);
      try {
        for await (const chunk of source) {
          if (!transfer.write(chunk as Buffer)) await transfer.drained();
          sent += (chunk as Buffer).length;
          // What the host holds is what left this side, less what is in flight: close enough for a bar.
          meter.at(sent);
        }
      } catch (error) {
        const reply = await Promise.race([last.catch(() => null), sleep(BYE_WAIT_MS, undefined).then(() => null)]);
        throw reply?.type === 'bye' ? replyError(reply) : error;
      }
      const reply = await last;
      if (reply.type === 'uploaded') return reply.file;
      throw replyError(reply);
    } finally {
      transfer.close();
    }
  });
}

/**
 * Asks the host to forget an unfinished upload and the bytes it holds (PROTOCOL.md §18.9), freeing
 * its place among the user's unfinished uploads; one the host no longer has is no error.
 */
export async function cancelUpload(link: TransferLink, uploadId: string, options: Pick<Attempts, 'signal' | 'retries'> = {}): Promise<void> {
  await withRetries(options, async () => {
    const transfer = await Transfer.open(link, options.signal);
    try {
      transferResults.cancelUpload.parse(await transfer.request({ type: 'cancelUpload', id: 1, token: link.token, uploadId }));
    } catch (error) {
      if (!(error instanceof ClientError && error.code === ErrorCode.UNKNOWN_FILE)) throw error;
    } finally {
      transfer.close();
    }
  });
}

/** Downloads a file to a path, or into memory without one; the SHA-256 is checked before it resolves. */
export async function downloadFile(link: TransferLink, options: DownloadOptions): Promise<{ file: FileInfo; bytes?: Buffer }> {
  const partial = options.path ? `${options.path}.part` : null;
  const held: Buffer[] = [];
  let heldBytes = 0;
  let meter: Meter | null = null;
  const have = (): number => (partial ? sizeOf(partial) : heldBytes);
  // Hashed as it arrives (what an earlier run left first), so the file is not read again to check it.
  const hash = createHash('sha256');
  if (partial && have() > 0) {
    for await (const chunk of createReadStream(partial, { highWaterMark: 256 * 1024 })) hash.update(chunk as Buffer);
  }
  const file = await withRetries(options, async () => {
    const transfer = await Transfer.open(link, options.signal);
    try {
      const offset = have();
      const result = transferResults.download.parse(
        await transfer.request({ type: 'download', id: 1, token: link.token, fileId: options.fileId, offset }),
      );
      meter ??= new Meter(result.file.size, options.onProgress);
      meter.at(offset);
      const out = partial ? PartialFile.open(partial) : null;
      let received = offset;
      try {
        for await (const chunk of transfer.rawBytes()) {
          hash.update(chunk);
          if (out) {
            await out.write(chunk);
          } else {
            held.push(chunk);
            heldBytes += chunk.length;
          }
          received += chunk.length;
          meter.at(received);
        }
      } finally {
        // What arrived is kept to resume from; a failure to write it is the reason this attempt failed.
        await out?.close();
      }
      if (received < result.file.size) throw new ClientError('DISCONNECTED', 'the link dropped during the download');
      return result.file;
    } finally {
      transfer.close();
    }
  });
  if (hash.digest('hex') !== file.sha256) {
    if (partial) rmSync(partial, { force: true });
    throw new ClientError(ErrorCode.HASH_MISMATCH, `the file received does not have the SHA-256 the host announced; it was removed`);
  }
  if (partial && options.path) {
    try {
      renameSync(partial, options.path);
    } catch (error) {
      throw saveError(error);
    }
    return { file };
  }
  return { file, bytes: Buffer.concat(held) };
}

/**
 * A download's partial file, appended to. A write that fails (a full disk, a name too long, no permission)
 * fails the download with the reason, as a final error: the stream's 'error' event always has a listener,
 * since one without would end the process.
 */
class PartialFile {
  private constructor(private readonly out: WriteStream) {
    out.on('error', () => undefined);
  }

  static open(path: string): PartialFile {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw saveError(error);
    }
    return new PartialFile(createWriteStream(path, { flags: 'a', highWaterMark: WRITE_BUFFER_BYTES }));
  }

  /** Resolves once the stream takes more, so that the link waits while the disk is behind. */
  async write(chunk: Buffer): Promise<void> {
    if (this.out.errored) throw saveError(this.out.errored);
    if (this.out.write(chunk)) return;
    try {
      await once(this.out, 'drain');
    } catch (error) {
      throw saveError(error);
    }
  }

  /** Flushes and closes; rejects with the reason if any write failed. */
  async close(): Promise<void> {
    if (!this.out.errored) await new Promise<void>((resolve) => this.out.end(() => resolve()));
    if (this.out.errored) throw saveError(this.out.errored);
  }
}

/** The disk is full, as the file system or SQLite (the device history, when it cannot grow its files) says it. */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE']);

/** A failure of this computer's disk to keep a file, worded for the transfer's row. */
export function saveError(error: unknown): ClientError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && DISK_FULL.has(code)) return new ClientError('DISK_FULL', 'this computer’s disk is full: free some space, then retry');
  return new ClientError('SAVE_FAILED', error instanceof Error ? error.message : String(error));
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Speed over a sliding window of recent samples, reported at most every PROGRESS_EVERY_MS and at the end. */
class Meter {
  private samples: { at: number; bytes: number }[] = [];
  private reportedAt = 0;

  constructor(
    private readonly total: number,
    private readonly report: ((progress: TransferProgress) => void) | undefined,
  ) {}

  at(bytes: number): void {
    if (!this.report) return;
    const now = performance.now();
    this.samples.push({ at: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0]!.at > 3000) this.samples.shift();
    if (bytes < this.total && now - this.reportedAt < PROGRESS_EVERY_MS) return;
    this.reportedAt = now;
    const first = this.samples[0]!;
    const seconds = (now - first.at) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.max(0, (bytes - first.bytes) / seconds) : 0;
    const secondsLeft = bytes >= this.total ? 0 : bytesPerSecond > 0 ? (this.total - bytes) / bytesPerSecond : null;
    this.report({ bytes, total: this.total, bytesPerSecond, secondsLeft });
  }
}

