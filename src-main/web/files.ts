/**
 * Files between the browser shell and its own page, which has no paths: the page
 * uploads what it sends (POST /files?name=…, streamed to the profile's outgoing/
 * folder, answered with the path to give sendFiles), and fetches what the app
 * downloaded (GET /files/<file id>/<name>, from the profile's downloads/ folder) to
 * show an image or save it. Both only with this run's token; what is served is an
 * attachment that is never sniffed, typed only when it is an image to show.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { create as contentDisposition } from 'content-disposition';
import { fileTypeFromFile } from 'file-type';
import { LIMITS } from '../../src-shared/protocol/limits.js';
import { fileId as fileIdSchema } from '../../src-shared/protocol/objects.js';
import { isShowableImage } from '../../src-shared/risky-files.js';
import { downloadName } from '../core/transfers-file.js';

export const FILES_PATH = '/files';

/** Where the files live: the same folders the App core uses for this profile. */
export interface ShellFileFolders {
  downloadsDir: string;
  outgoingDir: string;
  /** Largest upload the page may hand over (the host checks its own limit too). */
  maxUploadBytes?: number;
}


/** Nothing in a file served here may run, even if it is opened as a page. */
const FILE_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

const DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024 * 1024 * 1024;

export type FileReply = (status: number, headers?: Record<string, string>) => void;

/**
 * Answers a request under /files. The caller has checked the Host header; `authorized`
 * says whether the request shows the token (and, for an upload, comes from the page's origin).
 */
export async function serveFiles(
  folders: ShellFileFolders,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  authorized: boolean,
  reply: FileReply,
): Promise<void> {
  // A page of another site may embed or post to a loopback address; browsers say so in this header.
  const site = request.headers['sec-fetch-site'];
  if (!authorized || (site !== undefined && site !== 'same-origin')) {
    reply(403);
    return;
  }
  if (url.pathname === FILES_PATH) {
    if (request.method !== 'POST') {
      reply(405, { Allow: 'POST' });
      return;
    }
    await receive(folders, request, response, url, reply);
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply(405, { Allow: 'GET, HEAD' });
    return;
  }
  await send(folders, request, response, url, reply);
}

async function send(folders: ShellFileFolders, request: IncomingMessage, response: ServerResponse, url: URL, reply: FileReply): Promise<void> {
  const parts = url.pathname.slice(FILES_PATH.length + 1).split('/');
  const [id, encodedName] = parts;
  const name = parts.length === 2 ? decode(encodedName!) : null;
  if (!id || !fileIdSchema.safeParse(id).success || name === null || !isPlainName(name)) {
    reply(404);
    return;
  }
  const file = await existingFile(folders.downloadsDir, downloadName(id, name));
  if (!file) {
    reply(404);
    return;
  }
  const detected = (await fileTypeFromFile(file.path))?.mime;
  response.writeHead(200, {
    ...FILE_HEADERS,
    'Content-Type': detected && isShowableImage(detected) ? detected : 'application/octet-stream',
    'Content-Length': file.size,
    'Content-Disposition': contentDisposition(name),
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file.path).on('error', () => response.destroy()).pipe(response);
}

async function receive(folders: ShellFileFolders, request: IncomingMessage, response: ServerResponse, url: URL, reply: FileReply): Promise<void> {
  const name = url.searchParams.get('name');
  if (name === null || !isPlainName(name)) {
    reply(400);
    return;
  }
  const limit = folders.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  if (!Number.isInteger(declared) || declared > limit) {
    reply(declared > limit ? 413 : 411);
    return;
  }
  const folder = join(folders.outgoingDir, randomUUID());
  const path = join(folder, name);
  await mkdir(folder, { recursive: true });
  try {
    await pipeline(request, createWriteStream(path, { mode: 0o600 }));
    if ((await stat(path)).size !== declared) throw new Error('the upload ended early');
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    if (!response.headersSent && !request.destroyed) reply((error as NodeJS.ErrnoException).code === 'ENOSPC' ? 507 : 400);
    return;
  }
  const body = JSON.stringify({ path });
  response.writeHead(201, { ...FILE_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

/** A file name alone: no folder, nothing hidden in it, within the protocol's length. */
function isPlainName(name: string): boolean {
  return (
    name.length > 0 &&
    Buffer.byteLength(name) <= LIMITS.maxFileNameBytes &&
    name !== '.' &&
    name !== '..' &&
    !/[/\\\0]/.test(name)
  );
}

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** The file in the folder, if it is a regular file there (a link pointing out is refused). */
async function existingFile(folder: string, name: string): Promise<{ path: string; size: number } | null> {
  try {
    const root = await realpath(folder);
    const real = await realpath(join(folder, name));
    if (!real.startsWith(root + sep)) return null;
    const stats = await stat(real);
    return stats.isFile() ? { path: real, size: stats.size } : null;
  } catch {
    return null;
  }
}
