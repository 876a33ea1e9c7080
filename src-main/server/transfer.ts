/**
 * File transfers (docs/PROTOCOL.md §18). A transfer has a TLS connection of its own
 * to the chat port, so a large file never waits in line with chat frames: the
 * connection's first frame (upload, download or cancelUpload, with the session token) is
 * answered with one response, then the connection carries the file's raw bytes. This
 * module takes the connections, checks whose they are and how many that user has open,
 * ends them when the host closes their owner out, serves downloads and lends a send its
 * attachments; uploads.ts receives and keeps uploads.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { FILE_LIMITS, type FileLimits } from '../../src-shared/protocol/limits.js';
import type { Attachment, AttachmentRef } from '../../src-shared/protocol/objects.js';
import { type DownloadOpener, type TransferKind, isTransferKind, transferOpeners } from '../../src-shared/protocol/transfer.js';
import { thumbnailProblem } from '../../src-shared/thumbnails.js';
import type { Connection } from '../net/connection.js';
import { encodeFrame } from '../net/frame.js';
import type { AsyncStore, UserRow } from '../store/types.js';
import { ServerError } from './errors.js';
import type { ServerLog } from './log.js';
import { canRead } from './lookups.js';
import type { RoomClock } from './clock.js';
import type { ContentStore } from './file-store/contents.js';
import { answer, endSoon, toFileInfo } from './transfer-socket.js';
import { Uploads } from './uploads.js';

export interface FileOptions {
  /** Where the bytes of files are kept (a folder, or the room's database); its owner closes it. */
  contents: ContentStore;
  limits?: Partial<FileLimits>;
  /** Files never sent are forgotten this long after their upload began. */
  unsentTtlMs?: number;
  /** An unfinished upload that received no bytes this long is forgotten with its bytes. */
  uploadIdleMs?: number;
  /** A transfer connection that sends nothing this long is closed (an upload can resume later). */
  idleTimeoutMs?: number;
  /** How often orphaned contents and expired uploads are removed. */
  sweepIntervalMs?: number;
}

/** When a user at their transfer limit is told to try again: transfers usually end within seconds. */
const BUSY_RETRY_MS = 1000;

/** Whose transfer a connection carries, once its token is checked. */
export interface TransferOwner {
  userId: number;
  tokenHash: string;
  /** "host:port" as the server sees it. */
  address: string;
  /** The conversation and message of the file a download reads; null for an upload and a file not sent yet. */
  conv: string | null;
  messageId: number | null;
  /** The file a download reads. */
  fileId: string | null;
}

export class FileTransfers {
  readonly limits: FileLimits;
  private readonly uploads: Uploads;
  private readonly contents: ContentStore;
  private readonly idleTimeoutMs: number;
  /** Every transfer connection, with its owner once known. */
  private readonly sockets = new Map<Socket, TransferOwner | null>();
  private readonly sweeper: NodeJS.Timeout;
  /** Files a send waiting for its commit carries, so no other send takes them meanwhile. */
  private readonly claimed = new Set<string>();

  constructor(
    private readonly store: AsyncStore,
    private readonly log: ServerLog,
    clock: RoomClock,
    options: FileOptions,
  ) {
    this.limits = { ...FILE_LIMITS, ...options.limits };
    this.contents = options.contents;
    this.uploads = new Uploads(store, log, clock, { ...options, limits: this.limits });
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    const sweep = (): void =>
      void this.uploads.collectGarbage().catch((error: unknown) => this.log.error('file sweep failed', { error: String(error) }));
    sweep();
    this.sweeper = setInterval(sweep, options.sweepIntervalMs ?? 10_000).unref();
  }

  /** Whether a connection's first frame opens a transfer. */
  static opens(value: unknown): boolean {
    return isTransferKind((value as { type?: unknown } | null)?.type);
  }

  /** Takes the socket of a connection whose first frame opens a transfer. */
  take(connection: Connection, value: unknown): void {
    const socket = connection.socket;
    const unread = connection.release();
    // Held until the response is written: a byte that arrives before it is refused (see answer).
    socket.pause();
    this.sockets.set(socket, null);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setTimeout(this.idleTimeoutMs, () => socket.destroy());
    const record = value as { type: TransferKind; id?: unknown };
    this.log.info('transfer', { address: connection.remoteAddress, kind: record.type });
    const id = typeof record.id === 'number' && Number.isSafeInteger(record.id) && record.id >= 0 ? record.id : null;
    const refuse = (error: WireError): void => {
      socket.write(encodeFrame(id === null ? { type: 'bye', error } : { type: 'res', id, ok: false, error }));
      endSoon(socket);
    };
    if (unread) {
      refuse({ code: ErrorCode.BAD_REQUEST, message: 'send nothing after the first frame of a transfer until its response' });
      return;
    }
    const parsed = transferOpeners[record.type].safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      refuse({ code: ErrorCode.BAD_REQUEST, message: `${record.type}: ${issue?.path.join('.') || 'frame'}: ${issue?.message ?? 'invalid'}` });
      return;
    }
    const opener = parsed.data;
    const work = async (): Promise<void> => {
      const tokenHash = createHash('sha256').update(opener.token).digest('hex');
      const user = await this.userOf(tokenHash);
      // A resumed or cancelled upload ends its older connection (see upload, cancel), which does not count then.
      this.refuseBusy(user.id, opener.type !== 'download' && opener.uploadId ? this.uploads.socketOf(opener.uploadId) : undefined);
      this.sockets.set(socket, { userId: user.id, tokenHash, address: connection.remoteAddress, conv: null, messageId: null, fileId: null });
      // Asked again now that `end` can find this transfer: a password change or ban that ended the token's
      // transfers while it was looked up must not miss this one.
      if ((await this.store.sessionUserId(tokenHash)) !== user.id) throw badToken();
      if (opener.type === 'upload') await this.uploads.upload(socket, user, opener);
      else if (opener.type === 'download') await this.download(socket, user, opener);
      else await this.uploads.cancel(socket, user, opener);
    };
    work().catch((error: unknown) => {
      if (error instanceof ServerError) {
        refuse({ code: error.code, message: error.message, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) });
        return;
      }
      this.log.error('transfer failed', { address: connection.remoteAddress, error: error instanceof Error ? error.stack : String(error) });
      refuse({ code: ErrorCode.INTERNAL, message: 'the server hit an internal error; try again' });
    });
  }

  /**
   * The attachments of a message being sent: the sender's own finished uploads not sent yet, with
   * thumbnails that are small images, each held for this message until `release` (after the message is stored or refused).
   */
  async claim(me: UserRow, refs: AttachmentRef[]): Promise<{ attachments: Attachment[]; release: () => void }> {
    const ids = refs.map((ref) => ref.fileId);
    const refuse = (fileId: string): ServerError =>
      new ServerError(ErrorCode.UNKNOWN_FILE, `${fileId} is not a finished upload of yours that no message carries yet`);
    // Held before the store is asked, so a send in flight at the same time cannot take them too.
    refs.forEach((ref, index) => {
      const problem = ref.thumbnail === undefined ? null : thumbnailProblem(ref.thumbnail);
      if (problem !== null) throw new ServerError(ErrorCode.BAD_REQUEST, `attachments.${index}.thumbnail: ${problem}`);
    });
    const taken = ids.find((id, index) => this.claimed.has(id) || ids.indexOf(id) !== index);
    if (taken !== undefined) throw refuse(taken);
    for (const id of ids) this.claimed.add(id);
    const release = (): void => ids.forEach((id) => this.claimed.delete(id));
    try {
      const files = await Promise.all(ids.map((id) => this.store.fileById(id)));
      const attachments = refs.map((ref, index): Attachment => {
        const file = files[index];
        if (!file || file.uploaderId !== me.id || file.messageId !== null || file.frameId !== null) throw refuse(ref.fileId);
        const { fileId: _id, ...measured } = ref;
        return { ...toFileInfo(file), ...measured };
      });
      return { attachments, release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Ends every transfer; partial uploads stay for their clients to resume. */
  close(): void {
    clearInterval(this.sweeper);
    for (const socket of this.sockets.keys()) socket.destroy();
  }

  /**
   * Ends the transfers of the owners the host just closed out, with their sessions' reason: an
   * upload is told (`bye`), a download, being raw bytes, is cut.
   */
  end(which: (owner: TransferOwner) => boolean, reason: WireError): void {
    for (const [socket, owner] of this.sockets) {
      if (!owner || !which(owner) || socket.destroyed) continue;
      socket.pause();
      if (this.uploads.isReceiving(socket)) {
        socket.write(encodeFrame({ type: 'bye', error: reason }));
        endSoon(socket);
      } else socket.destroy();
    }
  }

  /** Refuses a transfer beyond the ones the user may have open at once. */
  private refuseBusy(userId: number, replaced: Socket | undefined): void {
    let open = 0;
    for (const [socket, owner] of this.sockets) if (owner?.userId === userId && !socket.destroyed && socket !== replaced) open += 1;
    const max = this.limits.maxTransfersPerUser;
    if (open >= max) {
      throw new ServerError(ErrorCode.RATE_LIMITED, `you have ${max} transfers open, as many as this host allows at once`, BUSY_RETRY_MS);
    }
  }

  private async userOf(tokenHash: string): Promise<UserRow> {
    const userId = await this.store.sessionUserId(tokenHash);
    const user = userId === undefined ? undefined : await this.store.userById(userId);
    if (!user) throw badToken();
    return user;
  }

  private async download(socket: Socket, user: UserRow, opener: DownloadOpener): Promise<void> {
    const file = await this.store.fileById(opener.fileId);
    const readable = file && (file.conv === null ? file.uploaderId === user.id : await canRead(this.store, user, file.conv));
    if (!file || !readable) throw new ServerError(ErrorCode.UNKNOWN_FILE, 'no such file for you');
    if (opener.offset > file.size) {
      throw new ServerError(ErrorCode.BAD_REQUEST, `offset ${opener.offset} is past the end of the file (${file.size} bytes)`);
    }
    if (!(await this.contents.has(file.sha256, file.size))) {
      this.log.error('file missing', { file: file.id });
      throw new ServerError(ErrorCode.UNKNOWN_FILE, 'the host has lost this file');
    }
    const owner = this.sockets.get(socket);
    if (owner) {
      owner.conv = file.conv;
      owner.messageId = file.messageId;
      owner.fileId = file.id;
    }
    answer(socket, opener.id, { file: toFileInfo(file), offset: opener.offset });
    if (opener.offset === file.size) {
      socket.end();
      return;
    }
    const input = this.contents.read(file.sha256, opener.offset);
    input.on('error', (error) => {
      this.log.error('file not read', { file: file.id, error: error.message });
      socket.destroy();
    });
    // Reads on only to notice the client going; it has nothing more to say.
    socket.resume();
    socket.once('close', () => input.destroy());
    input.pipe(socket);
  }
}

function badToken(): ServerError {
  return new ServerError(ErrorCode.BAD_TOKEN, 'this session token is not valid: log in again');
}
