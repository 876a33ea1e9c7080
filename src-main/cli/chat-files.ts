/**
 * The terminal client's file commands (docs/PROTOCOL.md §18): /send uploads a file and
 * sends it with an optional caption, /get downloads the files of a message seen in this
 * session. Each prints a progress line now and then, and one line at the end.
 *
 * To a DM or group that goes end-to-end encrypted, the file is sealed first and its name, type and key go
 * inside the encrypted message (PROTOCOL §20.12), as the app does (core/files.ts).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileTypeFromFile } from 'file-type';
import { fitFileName, savedFileName } from '../../src-shared/file-names.js';
import type { Attachment, ChatMessage, Target } from '../../src-shared/protocol/objects.js';
import { formatBytes } from '../../src-shared/text.js';
import type { ChatClient } from '../client/client.js';
import type { TransferLink } from '../client/transfer-link.js';
import { ClientError } from '../client/errors.js';
import { type TransferProgress, downloadFile, uploadFile } from '../client/transfer.js';
import type { E2eeMessaging } from '../core/e2ee-messaging.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { NotAsSealed, openSealedFile, sealFile, sealedSize } from '../crypto/file-seal.js';

export const FILE_HELP = [
  '  /send <room|name|#group> <path> [caption]   send a file (a path with spaces in "quotes")',
  '  /get <message id> [path]        save the files of a message shown with [files … /get <id>]',
];

/** How often a transfer's progress line is printed. */
const PROGRESS_EVERY_MS = 1000;

/** " [files: a.pdf (2.5 MB, application/pdf); /get 51]" for a message with files, "" otherwise. */
export function describeAttachments(message: ChatMessage): string {
  if (!message.attachments) return '';
  const files = message.attachments.map((file) => `${file.name} (${formatBytes(file.size)}, ${file.type})`).join(', ');
  return ` [files: ${files}; /get ${message.id}]`;
}

/** "42% of 100 MB, 11 MB/s, 5 s left" */
export function describeProgress(progress: TransferProgress): string {
  const percent = progress.total === 0 ? 100 : Math.floor((progress.bytes / progress.total) * 100);
  const speed = progress.bytesPerSecond > 0 ? `, ${formatBytes(Math.round(progress.bytesPerSecond))}/s` : '';
  const left = progress.secondsLeft === null ? '' : `, ${Math.ceil(progress.secondsLeft)} s left`;
  return `${percent}% of ${formatBytes(progress.total)}${speed}${left}`;
}

function progressPrinter(what: string, print: (line: string) => void): (progress: TransferProgress) => void {
  let printedAt = 0;
  return (progress) => {
    const now = Date.now();
    if (progress.bytes < progress.total && now - printedAt < PROGRESS_EVERY_MS) return;
    printedAt = now;
    print(`*** ${what}: ${describeProgress(progress)}`);
  };
}

function linkOf(client: ChatClient): TransferLink {
  const link = client.transferLink();
  if (!link) throw new Error('not connected to the server');
  if (!client.session?.hello.features?.includes('files')) throw new Error('this host takes no files');
  return link;
}

/** `<path> [caption]`, the path in double quotes if it has spaces. */
export function splitPathAndCaption(text: string): { path: string; caption: string } {
  const quoted = /^"([^"]+)"\s*(.*)$/s.exec(text);
  if (quoted) return { path: quoted[1]!, caption: quoted[2]! };
  const at = text.search(/\s/);
  return at < 0 ? { path: text, caption: '' } : { path: text.slice(0, at), caption: text.slice(at).trim() };
}

/**
 * Uploads the file and sends it to the target with the caption; resolves with the stored message. With
 * `device`, a DM's or group's file is sealed and sent inside the encryption.
 */
export async function sendFile(client: ChatClient, to: Target, path: string, caption: string, print: (line: string) => void, device?: E2eeMessaging): Promise<ChatMessage> {
  const link = linkOf(client);
  if (!existsSync(path) || !statSync(path).isFile()) throw new Error(`no file at ${path}`);
  const limit = client.session?.hello.limits?.maxFileBytes;
  const size = statSync(path).size;
  const sealing = device !== undefined && to.kind !== 'room';
  if (limit !== undefined && (sealing ? sealedSize(size) : size) > limit) throw new Error(`too large: the host allows ${formatBytes(limit)}`);
  // Sent under the name the host keeps, not refused for a character it does not.
  const name = fitFileName(basename(path));
  if (sealing) return sendSealed(link, device, to, path, name, caption, print);
  const file = await uploadFile(link, { source: { path }, name, onProgress: progressPrinter(`sending ${name}`, print) });
  const message = await client.send(to, caption, undefined, undefined, [{ fileId: file.id }]);
  print(`*** sent ${name} (${formatBytes(file.size)}) as message ${message.id}`);
  return message;
}

async function sendSealed(
  link: TransferLink,
  device: E2eeMessaging,
  to: Exclude<Target, { kind: 'room' }>,
  path: string,
  name: string,
  caption: string,
  print: (line: string) => void,
): Promise<ChatMessage> {
  const folder = mkdtempSync(join(tmpdir(), 'lanchat-sealed-'));
  try {
    const secret = await sealFile(path, join(folder, 'sealed'));
    const type = (await fileTypeFromFile(path))?.mime ?? 'application/octet-stream';
    const file = await uploadFile(link, { source: { path: join(folder, 'sealed') }, name: 'encrypted', sha256: secret.digest, onProgress: progressPrinter(`sending ${name}`, print) });
    const { key, iv, digest, size } = secret;
    const message = await device.send(to, caption, undefined, randomUUID(), [{ id: file.id, name, size, type, key, iv, digest }]);
    print(`*** sent ${name} (${formatBytes(size)}, end-to-end encrypted) as message ${message.id}`);
    return message;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Saves each file of the message: to `target` (a folder, or a file name for a single file), else the current
 * folder. A sealed file (its secret held by `device`) is checked and opened on the way.
 */
export async function getFiles(client: ChatClient, message: ChatMessage, target: string | undefined, print: (line: string) => void, device?: E2eeMessaging): Promise<string[]> {
  const link = linkOf(client);
  const files = message.attachments ?? [];
  if (files.length === 0) throw new Error(`message ${message.id} has no files`);
  const saved: string[] = [];
  for (const file of files) {
    const path = destination(file, target, files.length);
    // Never overwritten: a received file replaces nothing of the user's.
    if (existsSync(path)) throw new Error(`${path} exists already; give another path`);
    const secret = device?.fileSecret(file.id);
    await downloadFile(link, { fileId: file.id, path: secret ? `${path}.sealed` : path, onProgress: progressPrinter(`getting ${file.name}`, print) });
    if (secret) {
      try {
        await openSealedFile(`${path}.sealed`, path, secret);
      } catch (error) {
        throw error instanceof NotAsSealed ? new ClientError(ErrorCode.HASH_MISMATCH, `${file.name}: ${error.message}; it was removed`) : error;
      } finally {
        rmSync(`${path}.sealed`, { force: true });
      }
    }
    print(`*** saved ${file.name} (${formatBytes(file.size)}, ${file.type}) to ${path}`);
    saved.push(path);
  }
  return saved;
}

/** Where a file goes: a path the user gave as it is; into a folder under a name every system can save. */
function destination(file: Attachment, target: string | undefined, count: number): string {
  if (target === undefined) return resolve(savedFileName(file.name));
  const isFolder = existsSync(target) && statSync(target).isDirectory();
  if (isFolder || count > 1) return join(target, savedFileName(file.name));
  return resolve(target);
}
