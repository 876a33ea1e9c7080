/**
 * The files of end-to-end encrypted conversations on this device (PROTOCOL §20.12): each sealed under a
 * fresh key into outgoing/ before upload, its key kept in memory until its message is sent, and a
 * download's ciphertext checked and opened here. FileCore (files.ts) moves the bytes.
 */
import { rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileTypeFromFile } from 'file-type';
import type { AttachmentRef } from '../../src-shared/protocol/objects.js';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { ClientError } from '../client/errors.js';
import { saveError } from '../client/transfer.js';
import { type FileSecret, NotAsSealed, openSealedFile, sealFile } from '../crypto/file-seal.js';
import type { SealedFile } from './e2ee-messaging.js';
import { type PendingSend, outgoingDir } from './transfers-file.js';

/** The name a sealed file is uploaded under: the host learns nothing from it. */
export const SEALED_NAME = 'encrypted';

/** A file sealed for upload: where its ciphertext is, the key to it, and the type found in its content. */
export interface SealedCopy {
  path: string;
  secret: FileSecret;
  type: string;
}

export class SealedFiles {
  /** By transfer id, until their message is sent. */
  private readonly copies = new Map<string, SealedCopy>();

  constructor(private readonly profileDir: string) {}

  copy(transfer: string): SealedCopy | undefined {
    return this.copies.get(transfer);
  }

  /** Seals a file for upload under a fresh key, into outgoing/ (what is left there goes at the next start). */
  async seal(transfer: string, path: string): Promise<SealedCopy> {
    await mkdir(outgoingDir(this.profileDir), { recursive: true, mode: 0o700 });
    const sealed = join(outgoingDir(this.profileDir), `${transfer}.sealed`);
    const type = (await fileTypeFromFile(path))?.mime ?? 'application/octet-stream';
    const copy = { path: sealed, secret: await sealFile(path, sealed), type };
    this.copies.set(transfer, copy);
    return copy;
  }

  /** The sealed files of a send, uploaded, as its encrypted message carries them. */
  ofSend(send: PendingSend, refs: AttachmentRef[]): SealedFile[] {
    return send.files.map((file, index) => {
      const { secret, type } = this.copies.get(file.transfer)!;
      const { fileId: _id, ...measured } = refs[index]!;
      return { id: file.fileId!, name: file.name, size: secret.size, type, key: secret.key, iv: secret.iv, digest: secret.digest, ...measured };
    });
  }

  /** Forgets a send's sealed copies and their keys. */
  forget(send: PendingSend): void {
    for (const file of send.files) {
      const copy = this.copies.get(file.transfer);
      if (copy) rmSync(copy.path, { force: true });
      this.copies.delete(file.transfer);
    }
  }
}

/** Opens a sealed file downloaded; one that is not what its sender sealed is removed, and that is final. */
export async function openDownloaded(sealed: string, path: string, secret: FileSecret): Promise<void> {
  try {
    await openSealedFile(sealed, path, secret);
  } catch (error) {
    throw error instanceof NotAsSealed ? new ClientError(ErrorCode.HASH_MISMATCH, `${error.message}; it was removed`) : saveError(error);
  } finally {
    rmSync(sealed, { force: true });
  }
}
