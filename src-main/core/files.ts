/**
 * File transfers behind the App API (docs/PROTOCOL.md §18): sendFiles uploads each
 * file on a transfer connection of its own and then sends one message carrying them
 * all; downloadFile saves a message's file. Every transfer reports its progress,
 * speed and time left as 'transfer' events and can be cancelled; a dropped link or
 * a host restart is ridden out by the client library, which resumes where it stopped.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type AppEvent, AppErrorCode, type OutgoingFile, type Result, type TransferEvent } from '../../src-shared/api.js';
import type { AttachmentRef, Target } from '../../src-shared/protocol/objects.js';
import { formatBytes } from '../../src-shared/text.js';
import { ClientError } from '../client/errors.js';
import { type TransferLink, type TransferProgress, downloadFile, uploadFile } from '../client/transfer.js';
import { describeRequestError, fail, ok } from './errors.js';

export interface FileCoreLink {
  transferLink(): TransferLink | null;
  /** The host's limit on one file, from hello; undefined when it sent none. */
  maxFileBytes(): number | undefined;
  send(target: Target, text: string, attachments: AttachmentRef[]): Result<{ clientMsgId: string }>;
}

export class FileCore {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly link: FileCoreLink,
    private readonly emit: (event: AppEvent) => void,
    /** Where files go that are downloaded without a path (the browser shell's page gets them from there). */
    private readonly downloadsDir: string,
  ) {}

  /**
   * Starts uploading the files and, once all are up, sends them in one message with the caption.
   * Returns at once with a transfer id per file; progress and the outcome arrive as 'transfer' events,
   * the message as 'outbox' events like any other.
   */
  sendFiles(target: Target, files: OutgoingFile[], caption: string): Result<{ transfers: string[] }> {
    const link = this.link.transferLink();
    if (!link) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    const limit = this.link.maxFileBytes();
    const tooLarge = limit === undefined ? undefined : files.find((file) => sizeOf(file) > limit);
    if (tooLarge && limit !== undefined) {
      return fail('FILE_TOO_LARGE', `${nameOf(tooLarge)} is too large: the host allows ${formatBytes(limit)}`);
    }
    const transfers = files.map(() => randomUUID());
    void Promise.all(files.map((file, index) => this.upload(link, transfers[index]!, file))).then(
      (refs) => {
        const sent = this.link.send(target, caption, refs);
        if (!sent.ok) for (const id of transfers) this.report(id, 'upload', '', { status: 'failed', error: sent.error });
      },
      () => {
        // One file failed or was cancelled: its own event says so, and the others are not sent alone.
        for (const id of transfers) this.running.get(id)?.abort();
      },
    );
    return ok({ transfers });
  }

  /** Downloads a file of a message to `path`, or into the app's downloads folder; resolves once it is saved and checked. */
  async downloadFile(fileId: string, name: string, path: string | undefined): Promise<Result<{ transfer: string; path: string }>> {
    const link = this.link.transferLink();
    if (!link) return fail(AppErrorCode.NOT_CONNECTED, 'Join or host a room first');
    const target = path ?? join(this.downloadsDir, `${fileId}-${basename(name)}`);
    if (existsSync(target)) return fail(AppErrorCode.INVALID_ARGUMENT, `${target} exists already; choose another name`);
    mkdirSync(join(target, '..'), { recursive: true });
    const transfer = randomUUID();
    const controller = this.start(transfer, 'download', name);
    try {
      await downloadFile(link, { fileId, path: target, signal: controller.signal, onProgress: (p) => this.progress(transfer, 'download', name, p) });
      this.report(transfer, 'download', name, { status: 'done', path: target });
      return ok({ transfer, path: target });
    } catch (error) {
      const failure = this.failed(transfer, 'download', name, error);
      return { ok: false, error: failure };
    } finally {
      this.running.delete(transfer);
    }
  }

  cancel(transfer: string): Result<void> {
    const controller = this.running.get(transfer);
    if (!controller) return fail(AppErrorCode.INVALID_ARGUMENT, 'No such transfer under way');
    controller.abort();
    return ok(undefined);
  }

  private async upload(link: TransferLink, transfer: string, file: OutgoingFile): Promise<AttachmentRef> {
    const name = nameOf(file);
    const controller = this.start(transfer, 'upload', name);
    try {
      const source = 'path' in file ? { path: file.path } : { bytes: Buffer.from(file.data, 'base64') };
      const uploaded = await uploadFile(link, {
        source,
        name,
        signal: controller.signal,
        onProgress: (p) => this.progress(transfer, 'upload', name, p),
      });
      this.report(transfer, 'upload', name, { status: 'done', fileId: uploaded.id });
      const { width, height, thumbnail } = file;
      return {
        fileId: uploaded.id,
        ...(width !== undefined ? { width } : {}),
        ...(height !== undefined ? { height } : {}),
        ...(thumbnail !== undefined ? { thumbnail } : {}),
      };
    } catch (error) {
      this.failed(transfer, 'upload', name, error);
      throw error;
    } finally {
      this.running.delete(transfer);
    }
  }

  private start(transfer: string, direction: TransferEvent['direction'], name: string): AbortController {
    const controller = new AbortController();
    this.running.set(transfer, controller);
    this.report(transfer, direction, name, { status: 'running' });
    return controller;
  }

  private progress(transfer: string, direction: TransferEvent['direction'], name: string, progress: TransferProgress): void {
    this.report(transfer, direction, name, { status: 'running', progress });
  }

  private failed(transfer: string, direction: TransferEvent['direction'], name: string, error: unknown): TransferEvent['error'] & object {
    const cancelled = error instanceof ClientError && error.code === 'CANCELLED';
    const described = describeRequestError(error);
    this.report(transfer, direction, name, cancelled ? { status: 'cancelled' } : { status: 'failed', error: described });
    return described;
  }

  private report(transfer: string, direction: TransferEvent['direction'], name: string, state: Omit<TransferEvent, 'type' | 'transfer' | 'direction' | 'name'>): void {
    this.emit({ type: 'transfer', transfer, direction, name, ...state });
  }
}

function nameOf(file: OutgoingFile): string {
  return 'path' in file ? basename(file.path) : file.name;
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
