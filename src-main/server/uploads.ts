/**
 * The host's side of an upload (docs/PROTOCOL.md §18.2; resumed §18.4, limits §18.7, kept §18.8,
 * cancelled §18.9): bytes go to the content store (file-store/), under the upload's id, and are
 * hashed as they arrive; a cut upload resumes where the bytes the store holds end, through any node
 * sharing that store. A finished upload whose SHA-256 matches becomes a file, its content stored once
 * per distinct SHA-256.
 *
 * An unfinished upload reserves its declared size from its user's own limits (how many at
 * once, how many bytes), and from the room's store only the bytes that arrived: accounts
 * that send nothing cannot fill it for the others (issue 33). It goes when its uploader
 * cancels it, or once no bytes came for `uploadIdleMs`.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { fileNameProblem } from '../../src-shared/file-names.js';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import type { FileLimits } from '../../src-shared/protocol/limits.js';
import type { CancelUploadOpener, UploadOpener } from '../../src-shared/protocol/transfer.js';
import { formatBytes } from '../../src-shared/text.js';
import { encodeFrame } from '../net/frame.js';
import type { FileRow } from '../store/files.js';
import type { AsyncStore, UserRow } from '../store/types.js';
import type { RoomClock } from './clock.js';
import { ServerError } from './errors.js';
import type { ContentStore } from './file-store/contents.js';
import type { ServerLog } from './log.js';
import { KeyedQueue, SerialQueue } from './serial.js';
import { answer, endSoon, quiet, toFileInfo } from './transfer-socket.js';

/** Where uploads are kept, within which limits, and for how long (from FileOptions). */
export interface UploadSettings {
  contents: ContentStore;
  limits: FileLimits;
  unsentTtlMs?: number | undefined;
  uploadIdleMs?: number | undefined;
}

const DAY_MS = 86_400_000;
const UPLOAD_IDLE_MS = 10 * 60_000;
/** A file's type is told from at most its first bytes this many (magic numbers; a zip's first entries). */
const SNIFF_BYTES = 1024 * 1024;
const UNKNOWN_TYPE = 'application/octet-stream';

/** A file name the host keeps (NFC), or BAD_REQUEST naming the rule it breaks (src-shared/file-names.ts). */
function checkFileName(raw: string): string {
  const name = raw.normalize('NFC');
  const problem = fileNameProblem(name);
  if (problem) throw new ServerError(ErrorCode.BAD_REQUEST, problem);
  return name;
}

interface ActiveUpload {
  socket: Socket;
  finished: Promise<void>;
  /** Bytes its upload holds, and how many of them the store has (touchUploads): the room's store counts both. */
  received: number;
  recorded: number;
}

export class Uploads {
  private readonly contents: ContentStore;
  private readonly limits: FileLimits;
  private readonly unsentTtlMs: number;
  private readonly uploadIdleMs: number;
  /** Uploads receiving bytes now, by id: a resume of one takes over from the connection still holding it. */
  private readonly active = new Map<string, ActiveUpload>();
  /** A content's bytes and its row change together: the sweep's removals and a finishing upload take turns. */
  private readonly blobs = new SerialQueue();
  /** A user's new uploads are checked against their limits and recorded one at a time. */
  private readonly beginning = new KeyedQueue<number>();

  constructor(
    private readonly store: AsyncStore,
    private readonly log: ServerLog,
    private readonly clock: RoomClock,
    settings: UploadSettings,
  ) {
    this.contents = settings.contents;
    this.limits = settings.limits;
    this.unsentTtlMs = settings.unsentTtlMs ?? DAY_MS;
    this.uploadIdleMs = settings.uploadIdleMs ?? UPLOAD_IDLE_MS;
  }

  /**
   * Removes the bytes of contents no file has any more, unsent files past their time, and uploads
   * that received nothing for a while. Those receiving here are touched first: they are not idle.
   */
  async collectGarbage(): Promise<void> {
    const now = this.clock.now();
    const receiving = [...this.active].map(([id, active]) => ({ id, active, received: active.received }));
    await this.store.touchUploads(receiving, now);
    for (const { active, received } of receiving) active.recorded = Math.max(active.recorded, received);
    const expired = await this.store.expireUnsent(now - this.unsentTtlMs, now - this.uploadIdleMs);
    await Promise.all(
      expired.map((id) => this.forget(id, { code: ErrorCode.UNKNOWN_FILE, message: 'the upload expired: no bytes came for a while' })),
    );
    // In the blobs' turn, with the rows: an upload of the same content finishing meanwhile puts its file back after.
    await this.blobs.run(async () => {
      for (const sha256 of await this.store.takeOrphanBlobs()) await this.contents.remove(sha256);
    });
  }

  /** The connection receiving an upload now, if one is. */
  socketOf(uploadId: string): Socket | undefined {
    return this.active.get(uploadId)?.socket;
  }

  /** Whether the connection is receiving an upload. */
  isReceiving(socket: Socket): boolean {
    for (const active of this.active.values()) if (active.socket === socket) return true;
    return false;
  }

  /**
   * Answers an upload's opener and receives its bytes: a new upload once its user's limits and the
   * room's store allow it, a resumed one from where the bytes the content store holds end.
   */
  async upload(socket: Socket, user: UserRow, opener: UploadOpener): Promise<void> {
    const name = checkFileName(opener.name);
    const { size, sha256 } = opener;
    if (size > this.limits.maxFileBytes) {
      throw new ServerError(ErrorCode.FILE_TOO_LARGE, `too large: the host allows ${formatBytes(this.limits.maxFileBytes)}`);
    }
    const uploadId = opener.uploadId ?? (await this.beginUpload(user, name, size, sha256));
    const upload = await this.store.uploadById(uploadId);
    if (!upload && (await this.answerFinished(socket, user, opener, name))) return;
    if (!upload || upload.userId !== user.id || upload.name !== name || upload.size !== size || upload.sha256 !== sha256) {
      throw new ServerError(ErrorCode.UNKNOWN_FILE, 'no such upload of yours to resume (it may have expired): start it again');
    }
    // The same upload on a link the client gave up on: this connection takes over.
    const earlier = this.active.get(uploadId);
    if (earlier) {
      earlier.socket.destroy();
      await earlier.finished;
    }
    let finish = (): void => undefined;
    const active: ActiveUpload = { socket, finished: new Promise((resolve) => (finish = resolve)), received: 0, recorded: upload.received };
    this.active.set(uploadId, active);
    const release = (): void => {
      if (this.active.get(uploadId) === active) this.active.delete(uploadId);
      finish();
    };
    try {
      const hash = createHash('sha256');
      const offset = await hashStream(this.contents.readUpload(uploadId), hash);
      active.received = offset;
      if (socket.destroyed) {
        release();
        return;
      }
      answer(socket, opener.id, { uploadId, offset });
      this.receive(socket, uploadId, hash, active, upload.size, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * An upload resumed after the host finished it, its `uploaded` frame lost with the link (or with a
   * host restart): answered again with the file, while no message carries it yet. False when it is not one.
   */
  private async answerFinished(socket: Socket, user: UserRow, opener: UploadOpener, name: string): Promise<boolean> {
    const file = opener.uploadId === undefined ? undefined : await this.store.fileById(opener.uploadId);
    if (!file || file.uploaderId !== user.id || file.messageId !== null || file.frameId !== null || file.name !== name || file.size !== opener.size || file.sha256 !== opener.sha256) {
      return false;
    }
    answer(socket, opener.id, { uploadId: file.id, offset: file.size });
    socket.end(encodeFrame({ type: 'uploaded', file: toFileInfo(file) }));
    return true;
  }

  /**
   * Checks a new upload against its user's own limits first (unfinished uploads, the day), then
   * against the room's store, and records it; returns its id. One user's run one at a time, so
   * uploads begun together cannot pass the limits together.
   */
  private beginUpload(user: UserRow, name: string, size: number, sha256: string): Promise<string> {
    return this.beginning.run(user.id, async () => {
      const { maxUnfinishedUploadsPerUser: maxCount, maxUnfinishedBytesPerUser: maxBytes } = this.limits;
      const reserved = await this.store.reservationsOf(user.id);
      if (reserved.count >= maxCount) {
        throw new ServerError(ErrorCode.LIMIT_REACHED, `you have ${maxCount} unfinished uploads, as many as this host allows at once: finish or cancel one`);
      }
      if (reserved.bytes + size > maxBytes) {
        throw new ServerError(
          ErrorCode.LIMIT_REACHED,
          `your unfinished uploads would hold more than ${formatBytes(maxBytes)}, as much as this host keeps for one user at once: finish or cancel one`,
        );
      }
      const now = this.clock.now();
      if ((await this.store.fileBytesOnDay(user.id, now)) + size > this.limits.maxFileBytesPerDay) {
        throw new ServerError(
          ErrorCode.STORAGE_FULL,
          `you have sent ${formatBytes(this.limits.maxFileBytesPerDay)} of files today, as much as this host takes from one user per day; you can send again when the day ends (00:00 UTC)`,
          (Math.floor(now / DAY_MS) + 1) * DAY_MS - now,
        );
      }
      const used = await this.storageUsed();
      if (used + size > this.limits.maxFileStorageBytes) {
        throw new ServerError(
          ErrorCode.STORAGE_FULL,
          `the host keeps at most ${formatBytes(this.limits.maxFileStorageBytes)} of files and has ${formatBytes(Math.max(0, this.limits.maxFileStorageBytes - used))} left`,
        );
      }
      const id = randomBytes(16).toString('base64url');
      await this.store.createUpload({ id, userId: user.id, name, size, sha256, createdAt: now });
      return id;
    });
  }

  /** Bytes of kept contents and of unfinished uploads, with those that arrived here since the store last heard of them. */
  private async storageUsed(): Promise<number> {
    let used = await this.store.fileStorageUsed();
    for (const active of this.active.values()) used += Math.max(0, active.received - active.recorded);
    return used;
  }

  /** Forgets an unfinished upload of the user's and its bytes; a connection still sending them is told why. */
  async cancel(socket: Socket, user: UserRow, opener: CancelUploadOpener): Promise<void> {
    const upload = await this.store.uploadById(opener.uploadId);
    if (!upload || upload.userId !== user.id) {
      throw new ServerError(ErrorCode.UNKNOWN_FILE, 'no such unfinished upload of yours (it may have finished or expired)');
    }
    quiet(socket);
    await this.store.deleteUpload(upload.id);
    await this.forget(upload.id, { code: ErrorCode.UNKNOWN_FILE, message: 'the upload was cancelled' });
    answer(socket, opener.id, {});
    endSoon(socket);
  }

  /**
   * Appends the bytes after `offset` to the upload's in the content store, hashing them; checks and files the upload at its end.
   * A byte past `size` refuses the upload until the moment it is kept, even one that comes after the last byte.
   */
  private receive(socket: Socket, uploadId: string, hash: Hash, active: ActiveUpload, size: number, release: () => void): void {
    let received = active.received;
    let failed = false;
    let completing = false;
    /** The link was cut and the stream destroyed on purpose: a write it then refuses is no failure. */
    let cut = false;
    const out = this.contents.appendUpload(uploadId, received);
    const fail = (error: WireError): void => {
      if (failed) return;
      failed = true;
      socket.off('data', onData);
      socket.write(encodeFrame({ type: 'bye', error }));
      endSoon(socket);
    };
    const discard = (): void => {
      this.contents.removeUpload(uploadId).catch((error: unknown) => this.log.error('upload bytes not removed', { upload: uploadId, error: String(error) }));
      this.store.deleteUpload(uploadId).catch((error: unknown) => this.log.error('upload not removed', { upload: uploadId, error: String(error) }));
    };
    const onData = (chunk: Buffer): void => {
      if (received + chunk.length > size) {
        fail({ code: ErrorCode.BAD_REQUEST, message: `more bytes than the ${size} announced; the upload was removed` });
        // While it completes, completion sees `failed` and removes it.
        if (completing) return;
        out.destroy();
        // After the close: a stream still opening its file (or writing a row) would make it again.
        out.once('close', () => {
          discard();
          release();
        });
        return;
      }
      received += chunk.length;
      active.received = received;
      hash.update(chunk);
      if (!out.write(chunk)) socket.pause();
      if (received === size) out.end();
    };
    out.on('drain', () => socket.resume());
    out.on('error', (error: NodeJS.ErrnoException) => {
      if (cut) return;
      // Whatever the store refused, the upload cannot go on: its bytes are removed.
      discard();
      this.log.warn('upload failed', { upload: uploadId, error: error.code ?? error.message });
      fail(
        error.code === 'ENOSPC' || error.code === 'EDQUOT'
          ? { code: ErrorCode.STORAGE_FULL, message: 'the host is out of disk space; the upload was removed' }
          : { code: ErrorCode.INTERNAL, message: 'the host could not write the file; the upload was removed' },
      );
      release();
    });
    out.on('finish', () => {
      if (received !== size || failed) return;
      completing = true;
      const keep = (): boolean => {
        if (failed) return false;
        socket.off('data', onData);
        return true;
      };
      this.complete(socket, uploadId, hash.digest('hex'), keep)
        .then(
          (file) => {
            socket.write(encodeFrame({ type: 'uploaded', file: toFileInfo(file) }));
            socket.end();
          },
          (error: unknown) => {
            discard();
            if (error instanceof ServerError) fail({ code: error.code, message: error.message });
            else {
              this.log.error('upload failed', { upload: uploadId, error: error instanceof Error ? error.stack : String(error) });
              fail({ code: ErrorCode.INTERNAL, message: 'the host could not keep the file; the upload was removed' });
            }
          },
        )
        .finally(release);
    });
    // A cut link: what the content store holds stays for a resume, and is idle from now on. What it does not
    // hold yet is dropped, not written late: the client may be resuming through another node already.
    socket.once('close', () => {
      if (received < size && !failed) {
        cut = true;
        out.destroy();
        out.once('close', () => {
          this.store
            .touchUploads([{ id: uploadId, received }], this.clock.now())
            .then(() => (active.recorded = received))
            .catch((error: unknown) => this.log.error('upload not recorded', { upload: uploadId, error: String(error) }))
            .finally(release);
        });
      }
    });
    socket.on('data', onData);
    socket.resume();
    if (received === size) out.end();
  }

  /** Files the upload, if `keep` still says so once it is the content's turn (after that no byte can refuse it). */
  private async complete(socket: Socket, uploadId: string, digest: string, keep: () => boolean): Promise<FileRow> {
    const upload = await this.store.uploadById(uploadId);
    if (!upload) throw new ServerError(ErrorCode.UNKNOWN_FILE, 'the upload expired before it finished');
    if (digest !== upload.sha256) {
      this.log.warn('upload hash mismatch', { upload: uploadId, address: socket.remoteAddress ?? 'unknown' });
      throw new ServerError(ErrorCode.HASH_MISMATCH, 'the bytes received do not have the SHA-256 announced; the upload was removed, start again');
    }
    // From the first bytes only (magic numbers); the host decodes nothing.
    const type = (await fileTypeFromBuffer(await head(this.contents.readUpload(uploadId), SNIFF_BYTES)))?.mime ?? UNKNOWN_TYPE;
    return this.blobs.run(async () => {
      if (!keep()) throw new ServerError(ErrorCode.BAD_REQUEST, `more bytes than the ${upload.size} announced; the upload was removed`);
      const kept = (await this.store.hasBlob(upload.sha256)) && (await this.contents.has(upload.sha256, upload.size));
      // A new content is kept only if the store can hold it now: its own bytes are counted in, and
      // other uploads may have filled the store since this one began with nothing reserved.
      if (!kept && (await this.storageUsed()) > this.limits.maxFileStorageBytes) {
        throw new ServerError(ErrorCode.STORAGE_FULL, 'the host’s file storage filled up while this file arrived; the upload was removed');
      }
      if (!kept) await this.contents.keepUpload(uploadId, upload.sha256);
      const file = await this.store.completeUpload(uploadId, type);
      if (!file) {
        // Cancelled or expired meanwhile (on another node too): a content no file has is not kept.
        if (!kept) await this.contents.remove(upload.sha256);
        throw new ServerError(ErrorCode.UNKNOWN_FILE, 'the upload was cancelled or expired before it finished');
      }
      if (kept) await this.contents.removeUpload(uploadId);
      return file;
    });
  }

  /**
   * Removes the bytes of an upload whose row is gone, once a connection still receiving it
   * (told why) has let go of it.
   */
  private async forget(uploadId: string, reason: WireError): Promise<void> {
    const active = this.active.get(uploadId);
    if (active) {
      active.socket.pause();
      if (!active.socket.destroyed) active.socket.write(encodeFrame({ type: 'bye', error: reason }));
      endSoon(active.socket);
      await active.finished;
    }
    await this.contents.removeUpload(uploadId);
  }
}

/** Feeds the bytes of an upload to the hash; returns how many there were. */
async function hashStream(input: Readable, hash: Hash): Promise<number> {
  let read = 0;
  for await (const chunk of input) {
    hash.update(chunk as Buffer);
    read += (chunk as Buffer).length;
  }
  return read;
}

/** The first `limit` bytes of a stream (fewer if it ends first); the rest is not read. */
async function head(input: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of input) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= limit) break;
    }
  } finally {
    input.destroy();
  }
  return Buffer.concat(chunks, length).subarray(0, limit);
}
