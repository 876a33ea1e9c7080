/**
 * The frames of a transfer connection (docs/PROTOCOL.md §18): its first frame says
 * what it is for (an upload or a download), one response answers it, and from then
 * on the connection carries the file's raw bytes.
 */
import { z } from 'zod';
import { wireError } from './errors.js';
import { fileId, fileInfo, fileName, sha256Hex } from './objects.js';

const requestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** The session token of a logged-in chat connection (login result). */
const token = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a session token');
const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const transferOpeners = {
  /** A new upload (no uploadId) or the rest of an earlier one (its uploadId and the same name, size, sha256). */
  upload: z.strictObject({
    type: z.literal('upload'),
    id: requestId,
    token,
    name: fileName,
    size: byteCount.min(1),
    sha256: sha256Hex,
    uploadId: fileId.optional(),
  }),
  /** A file's bytes from `offset` to its end. */
  download: z.strictObject({ type: z.literal('download'), id: requestId, token, fileId, offset: byteCount }),
  /** Forgets an unfinished upload of one's own and its bytes, ending a connection still sending them. */
  cancelUpload: z.strictObject({ type: z.literal('cancelUpload'), id: requestId, token, uploadId: fileId }),
};
export type TransferKind = keyof typeof transferOpeners;
export type UploadOpener = z.infer<(typeof transferOpeners)['upload']>;
export type DownloadOpener = z.infer<(typeof transferOpeners)['download']>;
export type CancelUploadOpener = z.infer<(typeof transferOpeners)['cancelUpload']>;

export const transferResults = {
  /** Send the bytes from `offset` on: what the host already holds of this upload. */
  upload: z.object({ uploadId: fileId, offset: byteCount }),
  /** The bytes from `offset` to file.size follow this frame. */
  download: z.object({ file: fileInfo, offset: byteCount }),
  /** The upload is gone; the host closes the connection. */
  cancelUpload: z.object({}),
};

/** The host's last frame of an upload whose bytes all arrived and matched: the file, ready to attach. */
export const uploadedFrame = z.object({ type: z.literal('uploaded'), file: fileInfo });

/** Every frame a transfer connection may get from the host. */
export const transferReply = z.union([
  z.object({ type: z.literal('res'), id: requestId, ok: z.literal(true), result: z.unknown() }),
  z.object({ type: z.literal('res'), id: requestId, ok: z.literal(false), error: wireError }),
  uploadedFrame,
  z.object({ type: z.literal('bye'), error: wireError }),
]);
export type TransferReply = z.infer<typeof transferReply>;

export function isTransferKind(type: unknown): type is TransferKind {
  return typeof type === 'string' && Object.hasOwn(transferOpeners, type);
}
