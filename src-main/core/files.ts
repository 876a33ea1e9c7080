/**
 * File transfers behind the App API (docs/PROTOCOL.md §18): sendFiles uploads each
 * file on a transfer connection of its own and then sends one message carrying them
 * all; downloadFile saves a message's file. Every transfer reports its progress,
 * speed and time left as 'transfer' events and can be cancelled.
 *
 * A dropped link or a host restart is ridden out by the client library, which resumes
 * where it stopped. What is under way is also recorded in the profile (transfers-file.ts),
 * so a transfer cut by the app quitting goes on from where it stopped when the app is
 * next online in the same room as the same user.
 *
 * To an end-to-end encrypted conversation a file is sealed on this device before upload (crypto/file-seal.ts:
 * a fresh key each), and its name, type, key and digest go inside the encrypted message (PROTOCOL §20.12):
 * the host keeps ciphertext under a name that says nothing. The key stays in memory until the message is
 * sent, so an upload cut by the app quitting is sealed again under a new key and uploaded from the start.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { fileTypeFromFile } from 'file-type';
import { fitFileName, savedFileName } from '../../src-shared/file-names.js';
import { type AppError, type AppEvent, AppErrorCode, type OutgoingFile, type Result, type TransferEvent } from '../../src-shared/api.js';
import type { AttachmentRef, Target } from '../../src-shared/protocol/objects.js';
import { isRiskyFile } from '../../src-shared/risky-files.js';
import { formatBytes } from '../../src-shared/text.js';
import { ClientError } from '../client/errors.js';
import { type TransferLink, isFinalTransferError } from '../client/transfer-link.js';
import { type TransferProgress, cancelUpload, downloadFile, saveError, uploadFile } from '../client/transfer.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { describeRequestError, fail, ok } from './errors.js';
import { type PendingDownload, type PendingSend, type Stopped, TransfersFile } from './transfers-file.js';
import { type FileSecret, sealedSize } from '../crypto/file-seal.js';
import { SEALED_NAME, SealedFiles, openDownloaded } from './sealed-files.js';
import type { SealedFile } from './e2ee-messaging.js';

/** What the desktop shell does with a saved file; the browser shell has none of it. */
export interface DesktopFiles {
  /** Opens the file with the system's app for it; resolves with an error message, or '' when it opened. */
  open(path: string): Promise<string>;
  showInFolder(path: string): void;
  /** Asks the user where to save a file of that name; null when cancelled. */
  chooseSavePath(name: string): Promise<string | null>;
}

export interface FileCoreLink {
  transferLink(): TransferLink | null;
  /** Who is logged in where ("host:port" and the user), or null offline: transfers resume only there. */
  account(): string | null;
  /** The host's limit on one file, from hello; undefined when it sent none. */
  maxFileBytes(): number | undefined;
  send(target: Target, text: string, attachments: AttachmentRef[], replyTo: number | undefined): Result<{ clientMsgId: string }>;
  /** End-to-end encryption (e2ee-core.ts); without it every file goes as PROTOCOL §18 says. */
  sealing?: {
    /** Whether a message to `target` goes encrypted, its files sealed. */
    seals(target: Target): boolean;
    /** Sends the sealed files, uploaded, in one encrypted message. */
    send(target: Exclude<Target, { kind: 'room' }>, caption: string, files: SealedFile[], replyTo: number | undefined): Result<{ clientMsgId: string }>;
    /** The secret of a sealed file of a message this device holds. */
    secret(fileId: string): FileSecret | undefined;
  };
}

export class FileCore {
  /** Transfers under way, by transfer id. */
  private readonly running = new Map<string, AbortController>();
  /** Downloads under way by where they save to: asking again for the same file joins the one running. */
  private readonly downloading = new Map<string, Promise<Result<{ transfer: string; path: string }>>>();
  private readonly record: TransfersFile;
  /** Set by stop(): transfers cut now stay recorded, to resume at the next start. */
  private stopping = false;
  /** Files sealed for an encrypted conversation until their message is sent. */
  private readonly sealed: SealedFiles;

  constructor(
    private readonly link: FileCoreLink,
    private readonly emit: (event: AppEvent) => void,
    private readonly profileDir: string,
    private readonly desktop: DesktopFiles | undefined,
  ) {
    this.record = new TransfersFile(profileDir);
    this.sealed = new SealedFiles(profileDir);
  }

  /**
   * Starts uploading the files and, once all are up, sends them in one message with the caption (a reply
   * to the message `replyTo` when given).
   * Returns at once with a transfer id per file; progress and the outcome arrive as 'transfer' events,
   * the message as 'outbox' events like any other.
   */
  async sendFiles(target: Target, files: OutgoingFile[], caption: string, replyTo?: number): Promise<Result<{ transfers: string[] }>> {
    const account = this.link.account();
    if (!this.link.transferLink() || account === null) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    const limit = this.link.maxFileBytes();
    // A sealed file is padded to its size class, and that is what the host counts.
    const hostSize = this.seals(target) ? (file: OutgoingFile) => sealedSize(sizeOf(file)) : sizeOf;
    const tooLarge = limit === undefined ? undefined : files.find((file) => hostSize(file) > limit);
    if (tooLarge && limit !== undefined) {
      const file = nameOf(tooLarge);
      return { ok: false, error: { code: 'FILE_TOO_LARGE', message: `${file} is too large: the host allows ${formatBytes(limit)}`, file } };
    }
    const transfers = files.map(() => randomUUID());
    let uploads: PendingSend['files'];
    try {
      uploads = await Promise.all(
        files.map(async (file, i) => {
          const { width, height, thumbnail } = file;
          return { transfer: transfers[i]!, path: await this.record.pathOf(transfers[i]!, file), name: nameOf(file), width, height, thumbnail };
        }),
      );
    } catch (error) {
      this.record.removeCopies(transfers);
      return { ok: false, error: describeRequestError(saveError(error)) };
    }
    const send: PendingSend = { account, target, caption, ...(replyTo !== undefined ? { replyTo } : {}), files: uploads };
    this.record.addSend(send);
    void this.runSend(send);
    return ok({ transfers: uploads.map((upload) => upload.transfer) });
  }

  /**
   * Downloads a file of a message to `path`, or into the app's downloads folder; resolves once it is saved
   * and checked. Without a path, a file saved there before is answered at once.
   */
  downloadFile(fileId: string, name: string, path: string | undefined): Promise<Result<{ transfer: string; path: string }>> {
    const account = this.link.account();
    if (!this.link.transferLink() || account === null) return Promise.resolve(fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first'));
    const target = path ?? this.record.downloadPath(fileId, name);
    const under = this.downloading.get(target);
    if (under) return under;
    if (existsSync(target)) {
      if (path === undefined) return Promise.resolve(ok({ transfer: randomUUID(), path: target }));
      return Promise.resolve(fail(AppErrorCode.INVALID_ARGUMENT, `${target} exists already; choose another name`));
    }
    // One transfer per destination: one that failed or waits to resume is tried again, not doubled; one
    // of another file or account that was to save there gives way to this one.
    const earlier = this.record.downloadTo(target);
    if (earlier?.fileId === fileId && earlier.account === account) return this.runDownload(earlier);
    if (earlier) {
      this.record.forgetDownload(earlier);
      rmSync(`${target}.part`, { force: true });
    }
    const download: PendingDownload = { transfer: randomUUID(), account, fileId, name, path: target };
    this.record.addDownload(download);
    return this.runDownload(download);
  }

  /**
   * Opens a received file with the system's app, after downloading it if needed. A file that could run
   * code, by its name or by what this app finds in its content, opens only once the user confirmed.
   */
  async openFile(fileId: string, name: string, confirmed: boolean): Promise<Result<void>> {
    if (!this.desktop) return fail(AppErrorCode.UNSUPPORTED, 'This shell cannot open files; download it instead');
    const saved = await this.downloadFile(fileId, name, undefined);
    if (!saved.ok) return saved;
    const detected = (await fileTypeFromFile(saved.value.path))?.mime ?? 'application/octet-stream';
    if (isRiskyFile(name, detected) && !confirmed) {
      return fail(AppErrorCode.RISKY_FILE, `${name} could run a program when opened`);
    }
    const problem = await this.desktop.open(saved.value.path);
    return problem === '' ? ok(undefined) : fail(AppErrorCode.INTERNAL, `${name} could not be opened: ${problem}`);
  }

  async showInFolder(fileId: string, name: string): Promise<Result<void>> {
    if (!this.desktop) return fail(AppErrorCode.UNSUPPORTED, 'This shell has no file manager; download the file instead');
    const saved = await this.downloadFile(fileId, name, undefined);
    if (!saved.ok) return saved;
    this.desktop.showInFolder(saved.value.path);
    return ok(undefined);
  }

  async saveAs(fileId: string, name: string): Promise<Result<{ transfer: string; path: string } | null>> {
    if (!this.desktop) return fail(AppErrorCode.UNSUPPORTED, 'This shell cannot choose where to save; download the file instead');
    const path = await this.desktop.chooseSavePath(savedFileName(name));
    return path === null ? ok(null) : this.downloadFile(fileId, name, path);
  }

  /**
   * Stops a transfer under way (an upload's message is then not sent; Retry goes on from where it stopped),
   * or forgets one that is not under way, with what it kept to resume.
   */
  cancel(transfer: string): Result<void> {
    const send = this.record.sendOf(transfer);
    const download = this.record.downloadOf(transfer);
    if (!send && !download) return fail(AppErrorCode.INVALID_ARGUMENT, 'No such transfer under way');
    const ids = send ? send.files.map((file) => file.transfer) : [transfer];
    const running = ids.filter((id) => this.running.has(id));
    if (running.length > 0) {
      for (const id of running) this.running.get(id)!.abort();
      return ok(undefined);
    }
    if (send) {
      this.forgetSend(send);
      this.cancelOnHost(send);
    }
    if (download) {
      this.record.forgetDownload(download);
      rmSync(`${download.path}.part`, { force: true });
      rmSync(`${download.path}.sealed.part`, { force: true });
    }
    return ok(undefined);
  }

  /** Starts again a transfer that failed, from where it stopped. */
  retry(transfer: string): Result<void> {
    if (this.running.has(transfer)) return ok(undefined);
    if (!this.link.transferLink()) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    const send = this.record.sendOf(transfer);
    const download = this.record.downloadOf(transfer);
    if (send) void this.runSend(send);
    else if (download) void this.runDownload(download);
    else return fail(AppErrorCode.INVALID_ARGUMENT, 'No such transfer to retry');
    return ok(undefined);
  }

  /**
   * Goes on with what this account left unfinished (the app quit, or the link gave up); called once online.
   * Those stopped are reported again, so windows opened since can offer Retry.
   */
  resume(): void {
    const account = this.link.account();
    if (account === null) return;
    for (const send of this.record.sends) {
      if (send.account !== account || send.files.some((file) => this.running.has(file.transfer))) continue;
      if (send.stopped) {
        for (const file of send.files) this.report(file.transfer, 'upload', file.name, { ...reported(send.stopped), target: send.target });
      } else void this.runSend(send);
    }
    for (const download of this.record.downloads) {
      if (download.account !== account || this.running.has(download.transfer)) continue;
      if (download.stopped) this.report(download.transfer, 'download', download.name, { ...reported(download.stopped), fileId: download.fileId });
      else void this.runDownload(download);
    }
  }

  /** The app is quitting: transfers stop where they are, recorded to resume at the next start. */
  stop(): void {
    this.stopping = true;
    for (const controller of this.running.values()) controller.abort();
  }

  private async runSend(send: PendingSend): Promise<void> {
    const link = this.link.transferLink();
    if (!link) return;
    delete send.stopped;
    const sealing = this.seals(send.target);
    const outcomes = await Promise.allSettled(
      send.files.map((file) => (file.fileId && (!sealing || this.sealed.copy(file.transfer)) ? Promise.resolve() : this.upload(link, send, file, sealing))),
    );
    if (this.stopping || !this.record.has(send)) return;
    const errors = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    if (errors.length > 0) {
      // One file failed: its own event says so, and the others are not sent alone. A link that gave up
      // is tried again once online; Retry goes on from here at once.
      const final = errors.find(isFinalTransferError);
      if (final !== undefined) send.stopped = stoppedBy(final);
      this.record.save();
      return;
    }
    const refs = send.files.map(({ fileId, width, height, thumbnail }) => ({
      fileId: fileId!,
      ...(width !== undefined ? { width } : {}),
      ...(height !== undefined ? { height } : {}),
      ...(thumbnail !== undefined ? { thumbnail } : {}),
    }));
    const target = send.target;
    const sent =
      sealing && target.kind !== 'room'
        ? this.link.sealing!.send(target, send.caption, this.sealed.ofSend(send, refs), send.replyTo)
        : this.link.send(target, send.caption, refs, send.replyTo);
    if (!sent.ok) {
      send.stopped = { status: 'failed', error: sent.error };
      this.record.save();
      for (const file of send.files) this.report(file.transfer, 'upload', file.name, { status: 'failed', error: sent.error, target: send.target });
      return;
    }
    this.forgetSend(send);
  }

  private seals(target: Target): boolean {
    return this.link.sealing?.seals(target) ?? false;
  }

  /** Forgets a send with its copies, the sealed ones and their keys included. */
  private forgetSend(send: PendingSend): void {
    this.record.forgetSend(send);
    this.sealed.forget(send);
  }

  private async upload(link: TransferLink, send: PendingSend, file: PendingSend['files'][number], sealing: boolean): Promise<void> {
    const { transfer, name } = file;
    const controller = this.start(transfer);
    this.report(transfer, 'upload', name, { status: 'running', target: send.target });
    let copy = this.sealed.copy(transfer);
    const attempt = () =>
      uploadFile(link, {
        source: { path: copy?.path ?? file.path },
        name: copy ? SEALED_NAME : name,
        ...(copy ? { sha256: copy.secret.digest } : {}),
        signal: controller.signal,
        ...(file.uploadId ? { uploadId: file.uploadId } : {}),
        onUploadId: (uploadId) => {
          file.uploadId = uploadId;
          this.record.save();
        },
        onProgress: (progress) => this.progress(transfer, 'upload', name, progress, { target: send.target }),
        onWait: () => this.report(transfer, 'upload', name, { status: 'running', waiting: true, target: send.target }),
      });
    try {
      if (sealing && !copy) {
        // What an earlier run of the app uploaded was sealed under a key it did not keep: sealed anew, uploaded from the start.
        delete file.uploadId;
        delete file.fileId;
        copy = await this.sealed.seal(transfer, file.path);
      }
      const uploaded = await attempt().catch((error: unknown) => {
        // The host forgot the upload (idle for minutes, the app closed meanwhile): it starts again from the first byte.
        if (!(file.uploadId && error instanceof ClientError && error.code === ErrorCode.UNKNOWN_FILE)) throw error;
        delete file.uploadId;
        this.record.save();
        return attempt();
      });
      file.fileId = uploaded.id;
      this.record.save();
      this.report(transfer, 'upload', name, { status: 'done', fileId: uploaded.id, target: send.target });
    } catch (error) {
      this.failed(transfer, 'upload', name, error, { target: send.target });
      throw error;
    } finally {
      this.running.delete(transfer);
    }
  }

  private runDownload(download: PendingDownload): Promise<Result<{ transfer: string; path: string }>> {
    const run = this.download(download).finally(() => this.downloading.delete(download.path));
    this.downloading.set(download.path, run);
    return run;
  }

  private async download(download: PendingDownload): Promise<Result<{ transfer: string; path: string }>> {
    const { transfer, fileId, name, path } = download;
    const link = this.link.transferLink();
    if (!link) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    delete download.stopped;
    const controller = this.start(transfer);
    this.report(transfer, 'download', name, { status: 'running', fileId });
    try {
      // A file of an encrypted message: its ciphertext comes first, then is checked and opened here. Its key
      // is in the device history, which a full disk can keep from opening: that is this download's failure.
      const secret = this.secretOf(fileId);
      await downloadFile(link, {
        fileId,
        path: secret ? `${path}.sealed` : path,
        signal: controller.signal,
        onProgress: (p) => this.progress(transfer, 'download', name, p, { fileId }),
        onWait: () => this.report(transfer, 'download', name, { status: 'running', waiting: true, fileId }),
      });
      if (secret) await openDownloaded(`${path}.sealed`, path, secret);
      this.record.forgetDownload(download);
      this.report(transfer, 'download', name, { status: 'done', path, fileId });
      return ok({ transfer, path });
    } catch (error) {
      if (this.stopping) return fail(AppErrorCode.NOT_CONNECTED, 'The app is quitting');
      if (isFinalTransferError(error)) {
        download.stopped = stoppedBy(error);
        this.record.save();
      }
      return { ok: false, error: this.failed(transfer, 'download', name, error, { fileId }) };
    } finally {
      this.running.delete(transfer);
    }
  }

  private secretOf(fileId: string): FileSecret | undefined {
    try {
      return this.link.sealing?.secret(fileId);
    } catch (error) {
      throw saveError(error);
    }
  }

  /**
   * Frees on the host the uploads of a send forgotten before they finished. Offline, or logged in
   * elsewhere, the host forgets them by itself once they have been idle for minutes.
   */
  private cancelOnHost(send: PendingSend): void {
    const link = this.link.transferLink();
    if (!link || this.link.account() !== send.account) return;
    for (const file of send.files) {
      if (file.uploadId && !file.fileId) void cancelUpload(link, file.uploadId, { retries: 3 }).catch(() => undefined);
    }
  }

  private start(transfer: string): AbortController {
    const controller = new AbortController();
    this.running.set(transfer, controller);
    return controller;
  }

  private progress(transfer: string, direction: TransferEvent['direction'], name: string, progress: TransferProgress, about: About): void {
    this.report(transfer, direction, name, { status: 'running', progress, ...about });
  }

  private failed(transfer: string, direction: TransferEvent['direction'], name: string, error: unknown, about: About): AppError {
    const cancelled = error instanceof ClientError && error.code === 'CANCELLED';
    const described = describeTransferError(error);
    this.report(transfer, direction, name, cancelled ? { status: 'cancelled', ...about } : { status: 'failed', error: described, ...about });
    return described;
  }

  private report(transfer: string, direction: TransferEvent['direction'], name: string, state: Omit<TransferEvent, 'type' | 'transfer' | 'direction' | 'name'>): void {
    if (this.stopping) return;
    this.emit({ type: 'transfer', transfer, direction, name, ...state });
  }
}

/** What an event says a transfer belongs to: an upload's conversation, a download's file. */
type About = Pick<TransferEvent, 'target' | 'fileId'>;

function stoppedBy(error: unknown): NonNullable<Stopped> {
  if (error instanceof ClientError && error.code === 'CANCELLED') return { status: 'cancelled' };
  return { status: 'failed', error: describeTransferError(error) };
}

/** A transfer's error for people, with the host's retryAfterMs: the renderer words a day's limit by it. */
function describeTransferError(error: unknown): AppError {
  const described = describeRequestError(error);
  return error instanceof ClientError && error.retryAfterMs !== undefined ? { ...described, retryAfterMs: error.retryAfterMs } : described;
}

function reported(stopped: NonNullable<Stopped>): Pick<TransferEvent, 'status' | 'error'> {
  return stopped.error ? { status: stopped.status, error: stopped.error } : { status: stopped.status };
}

/** The name the host will keep: one it would refuse (a bidi override, a control character) is fitted, not sent to fail. */
function nameOf(file: OutgoingFile): string {
  return fitFileName('path' in file ? basename(file.path) : file.name);
}

/** Bytes of the file; a path that cannot be read counts 0 here and fails with its reason when uploaded. */
function sizeOf(file: OutgoingFile): number {
  if ('data' in file) return Math.floor((file.data.length * 3) / 4);
  try {
    return statSync(file.path).size;
  } catch {
    return 0;
  }
}
