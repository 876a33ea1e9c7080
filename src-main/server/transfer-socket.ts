/** How the host speaks on a transfer connection around its raw bytes: the opener's answer, and its end. */
import type { Socket } from 'node:net';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { FileInfo } from '../../src-shared/protocol/objects.js';
import { encodeFrame } from '../net/frame.js';
import type { FileRow } from '../store/files.js';
import { ServerError } from './errors.js';

const CLOSE_GRACE_MS = 1000;

/** A file as the wire describes it. */
export function toFileInfo(row: FileRow): FileInfo {
  return { id: row.id, name: row.name, size: row.size, type: row.type, sha256: row.sha256 };
}

/** Throws the refusal when the client sent bytes after its opener before the response. */
export function quiet(socket: Socket): void {
  if (socket.readableLength > 0) {
    throw new ServerError(ErrorCode.BAD_REQUEST, 'send nothing after the first frame of a transfer until its response');
  }
}

/** Writes the opener's response, unless the client sent bytes before it (then the refusal is thrown). */
export function answer(socket: Socket, id: number, result: unknown): void {
  quiet(socket);
  socket.write(encodeFrame({ type: 'res', id, ok: true, result }));
}

/** Half-closes after the last frame and destroys the socket a moment later. */
export function endSoon(socket: Socket): void {
  socket.end();
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}
