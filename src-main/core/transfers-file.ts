/**
 * transfers.json in the profile: the file transfers under way, written as they change (with the host's
 * upload id as soon as it is known), so a transfer cut by the app quitting goes on from where it stopped
 * when the app is next online in the same room as the same user. Files given as bytes have no path to
 * resume from: they are copied to outgoing/ first and kept there until their message is sent. Downloads
 * without a path of their own go to downloads/.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import type { OutgoingFile } from '../../src-shared/api.js';
import { savedFileName } from '../../src-shared/file-names.js';
import { target as targetSchema } from '../../src-shared/protocol/objects.js';
import { messageOf } from './errors.js';
import { readJson, writeAtomically } from './profile-files.js';

/** Where downloads without a path are saved (the browser shell serves them to its page from there). */
export function downloadsDir(profileDir: string): string {
  return join(profileDir, 'downloads');
}

/** Copies of files to send that have no path of their own (bytes from a page), kept until their message is sent. */
export function outgoingDir(profileDir: string): string {
  return join(profileDir, 'outgoing');
}

/**
 * A saved download's file name: the file's id first, so two files of the same name never meet, then the
 * name as sent made safe to save on every system (src-shared/file-names.ts); the windows show the name as sent.
 */
export function downloadName(fileId: string, name: string): string {
  return savedFileName(`${fileId}-${name}`);
}

const pixels = z.number().int().min(1);
const pendingUpload = z.object({
  transfer: z.string(),
  path: z.string(),
  name: z.string(),
  uploadId: z.string().optional(),
  fileId: z.string().optional(),
  width: pixels.optional(),
  height: pixels.optional(),
  thumbnail: z.string().optional(),
});
/** Set while a transfer waits for Retry (or Cancel, which then forgets it): it is not resumed by itself. */
const stopped = z
  .object({
    status: z.enum(['failed', 'cancelled']),
    error: z.object({ code: z.string(), message: z.string(), retryAfterMs: z.number().optional() }).optional(),
  })
  .optional();
const pendingSend = z.object({
  account: z.string(),
  target: targetSchema,
  caption: z.string(),
  replyTo: z.number().int().positive().optional(),
  files: z.array(pendingUpload),
  stopped,
});
const pendingDownload = z.object({ transfer: z.string(), account: z.string(), fileId: z.string(), name: z.string(), path: z.string(), stopped });
const pendingFile = z.object({ sends: z.array(pendingSend), downloads: z.array(pendingDownload) });
export type Stopped = z.infer<typeof stopped>;
/** Files to upload, then send in one message. */
export type PendingSend = z.infer<typeof pendingSend>;
export type PendingDownload = z.infer<typeof pendingDownload>;

export class TransfersFile {
  private readonly file: string;
  private readonly outgoing: string;
  private readonly downloadsFolder: string;
  private readonly pending: z.infer<typeof pendingFile>;

  constructor(profileDir: string) {
    this.file = join(profileDir, 'transfers.json');
    this.outgoing = outgoingDir(profileDir);
    this.downloadsFolder = downloadsDir(profileDir);
    const parsed = pendingFile.safeParse(readJson(this.file));
    this.pending = parsed.success ? parsed.data : { sends: [], downloads: [] };
    this.renameRecordedDownloads();
    this.removeUnusedCopies();
  }

  get sends(): readonly PendingSend[] {
    return this.pending.sends;
  }

  get downloads(): readonly PendingDownload[] {
    return this.pending.downloads;
  }

  /** Where a download without a path of its own is saved. */
  downloadPath(fileId: string, name: string): string {
    return join(this.downloadsFolder, downloadName(fileId, name));
  }

  addSend(send: PendingSend): void {
    this.pending.sends.push(send);
    this.save();
  }

  addDownload(download: PendingDownload): void {
    this.pending.downloads.push(download);
    this.save();
  }

  sendOf(transfer: string): PendingSend | undefined {
    return this.pending.sends.find((candidate) => candidate.files.some((file) => file.transfer === transfer));
  }

  downloadOf(transfer: string): PendingDownload | undefined {
    return this.pending.downloads.find((candidate) => candidate.transfer === transfer);
  }

  /** The download recorded to save at `path`, if one is. */
  downloadTo(path: string): PendingDownload | undefined {
    return this.pending.downloads.find((candidate) => candidate.path === path);
  }

  /** Whether the send is still recorded: not cancelled while its files went up. */
  has(send: PendingSend): boolean {
    return this.pending.sends.includes(send);
  }

  /** Forgets a send, with the copies of its files in outgoing/. */
  forgetSend(send: PendingSend): void {
    this.pending.sends = this.pending.sends.filter((candidate) => candidate !== send);
    this.save();
    for (const file of send.files) {
      if (this.isOwnCopy(file.path)) rmSync(dirname(file.path), { recursive: true, force: true });
    }
  }

  forgetDownload(download: PendingDownload): void {
    this.pending.downloads = this.pending.downloads.filter((candidate) => candidate !== download);
    this.save();
  }

  /** A file given as bytes is copied to outgoing/ (under a name the disk takes), so the upload can resume after a restart of the app. */
  async pathOf(transfer: string, file: OutgoingFile): Promise<string> {
    if ('path' in file) return file.path;
    const folder = join(this.outgoing, transfer);
    await mkdir(folder, { recursive: true });
    const path = join(folder, savedFileName(file.name));
    await writeFile(path, Buffer.from(file.data, 'base64'));
    return path;
  }

  /** Removes what pathOf copied for these transfers (their send was not recorded). */
  removeCopies(transfers: string[]): void {
    for (const transfer of transfers) rmSync(join(this.outgoing, transfer), { recursive: true, force: true });
  }

  /** A profile that cannot be written (a full disk) costs the resumption after a restart, never a transfer under way. */
  save(): void {
    try {
      writeAtomically(this.file, this.pending, 0o600);
    } catch (error) {
      console.error(`lanchat: could not record the transfers under way in the profile (they go on while the app runs): ${messageOf(error)}`);
    }
  }

  /**
   * A download into downloads/ recorded by an earlier version went to `<id>-<name as sent>`, which may be too
   * long to create or a name Windows refuses: it goes on under the name this version saves it as.
   */
  private renameRecordedDownloads(): void {
    for (const download of this.pending.downloads) {
      if (dirname(download.path) !== this.downloadsFolder) continue;
      const path = this.downloadPath(download.fileId, download.name);
      if (path === download.path) continue;
      try {
        if (existsSync(`${download.path}.part`)) renameSync(`${download.path}.part`, `${path}.part`);
      } catch {
        // Begun again from the start rather than not at all.
      }
      download.path = path;
    }
  }

  /** outgoing/ holds one folder per file to send; those no send refers to any more (the app quit between) go. */
  private removeUnusedCopies(): void {
    let folders: string[];
    try {
      folders = readdirSync(this.outgoing);
    } catch {
      return;
    }
    const used = new Set(this.pending.sends.flatMap((send) => send.files.filter((file) => this.isOwnCopy(file.path)).map((file) => dirname(file.path))));
    for (const folder of folders) {
      const path = join(this.outgoing, folder);
      if (!used.has(path)) rmSync(path, { recursive: true, force: true });
    }
  }

  /** True for a copy in outgoing/ (the browser shell puts what its page sends there too). */
  private isOwnCopy(path: string): boolean {
    return resolve(path).startsWith(resolve(this.outgoing) + sep);
  }
}
