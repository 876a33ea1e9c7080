/**
 * A file of an end-to-end encrypted message, sealed on the sending device before upload (PROTOCOL §20.12),
 * after the attachments of Signal and Matrix: a fresh random key per file, the file encrypted with an AEAD
 * from Node's crypto (AES-256-GCM, one key and one 96-bit IV per file, so never a nonce twice), and the
 * key, IV and the SHA-256 of the ciphertext carried inside the MLS message, never to the host. The
 * plaintext is padded with zeros to Signal's size buckets (5 % apart, at least 541 bytes), so the host
 * sees a size class, not the size. Streamed both ways: a file of any size passes in bounded memory.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';

export const FILE_KEY_BYTES = 32;
export const FILE_IV_BYTES = 12;
const TAG_BYTES = 16;
const CHUNK = 256 * 1024;

/** What a receiver needs to fetch and open a sealed file; travels only inside the encryption. */
export interface FileSecret {
  /** AES-256 key, base64 (32 bytes). */
  key: string;
  /** GCM IV, base64 (12 bytes). */
  iv: string;
  /** SHA-256 of the whole ciphertext as uploaded (tag included), lower-case hex: what the host also checks. */
  digest: string;
  /** Bytes of the file itself, before padding. */
  size: number;
}

/** A sealed file that is not what its sender sealed: another size, another digest, or a tag that fails. */
export class NotAsSealed extends Error {}

/** Signal's attachment size buckets: the padded size of a plaintext of `size` bytes. */
export function paddedSize(size: number): number {
  return Math.max(541, Math.floor(Math.pow(1.05, Math.ceil(Math.log(size) / Math.log(1.05)))));
}

/** Bytes the host holds of a sealed file of `size` bytes. */
export const sealedSize = (size: number): number => paddedSize(size) + TAG_BYTES;

/** Encrypts the file at `source` to `out` under a fresh key; resolves with what a receiver needs. */
export async function sealFile(source: string, out: string): Promise<FileSecret> {
  const size = statSync(source).size;
  const key = randomBytes(FILE_KEY_BYTES);
  const iv = randomBytes(FILE_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const digest = createHash('sha256');
  const output = createWriteStream(out, { mode: 0o600 });
  output.on('error', () => undefined);
  try {
    const put = (bytes: Buffer): Promise<void> => {
      digest.update(bytes);
      return write(output, bytes);
    };
    for await (const chunk of createReadStream(source, { highWaterMark: CHUNK })) await put(cipher.update(chunk as Buffer));
    for (let left = paddedSize(size) - size; left > 0; left -= CHUNK) await put(cipher.update(Buffer.alloc(Math.min(CHUNK, left))));
    await put(cipher.final());
    await put(cipher.getAuthTag());
    await close(output);
  } catch (error) {
    output.destroy();
    rmSync(out, { force: true });
    throw error;
  }
  return { key: key.toString('base64'), iv: iv.toString('base64'), digest: digest.digest('hex'), size };
}

/**
 * Checks the ciphertext at `sealed` against the digest, then decrypts its first `size` bytes to `out`
 * (through `out.part`, renamed only once the GCM tag verified). Throws, leaving nothing at `out`, on any
 * difference.
 */
export async function openSealedFile(sealed: string, out: string, secret: FileSecret): Promise<void> {
  const total = statSync(sealed).size;
  if (total !== sealedSize(secret.size)) throw new NotAsSealed('the file received is not the size its sender sealed');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(sealed, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
  if (hash.digest('hex') !== secret.digest) throw new NotAsSealed('the file received is not the one its sender sealed');
  const tag = Buffer.alloc(TAG_BYTES);
  const handle = await open(sealed, 'r');
  try {
    await handle.read(tag, 0, TAG_BYTES, total - TAG_BYTES);
  } finally {
    await handle.close();
  }
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(secret.key, 'base64'), Buffer.from(secret.iv, 'base64'));
  decipher.setAuthTag(tag);
  const partial = `${out}.part`;
  const output = createWriteStream(partial, { mode: 0o600 });
  output.on('error', () => undefined);
  try {
    let left = secret.size;
    const keep = async (bytes: Buffer): Promise<void> => {
      const kept = bytes.subarray(0, Math.max(0, Math.min(left, bytes.length)));
      left -= kept.length;
      if (kept.length > 0) await write(output, kept);
    };
    for await (const chunk of createReadStream(sealed, { end: total - TAG_BYTES - 1, highWaterMark: CHUNK })) await keep(decipher.update(chunk as Buffer));
    let last: Buffer;
    try {
      last = decipher.final();
    } catch {
      throw new NotAsSealed('the file received does not open with the key its sender sent');
    }
    await keep(last);
    await close(output);
    renameSync(partial, out);
  } catch (error) {
    output.destroy();
    rmSync(partial, { force: true });
    throw error;
  }
}

async function write(output: WriteStream, bytes: Buffer): Promise<void> {
  if (output.errored) throw output.errored;
  if (!output.write(bytes)) await once(output, 'drain');
}

async function close(output: WriteStream): Promise<void> {
  if (!output.errored) await new Promise<void>((resolve) => output.end(() => resolve()));
  if (output.errored) throw output.errored;
}
