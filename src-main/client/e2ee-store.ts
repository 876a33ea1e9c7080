/**
 * A device's end-to-end encryption state kept between runs (issue 35 item 5, docs/SECURITY.md "On the
 * device"): its signature key, its unused key packages' private keys and every group's secrets, in one
 * file encrypted with AES-256-GCM (node:crypto). The 32-byte key comes from the OS keychain when the
 * shell has one (the TokenSealer it passes: Electron's safeStorage, or the browser shell's keyring, which seal the
 * key in `device-key.sealed`), else from `device-key`, created readable by the user only (mode 0600).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Seals text with the user's OS keychain: the shells' TokenSealer (core/profile-files.ts) is one. */
export interface KeySealer {
  seal(text: string): string;
  /** Throws when the text was not sealed with this user's key. */
  open(sealed: string): string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The file's first bytes, also authenticated with it: its format's version. */
const MAGIC = Buffer.from('LanChat device 1\n');

/** The file next to the profile's other files that holds the key in the clear: without a keychain only. */
export const KEY_FILE = 'device-key';
/** The key sealed by the keychain. */
export const SEALED_KEY_FILE = 'device-key.sealed';

function parseKey(hex: string, where: string): Buffer {
  const key = Buffer.from(hex.trim(), 'hex');
  if (key.length !== KEY_BYTES || !/^[0-9a-f]+$/i.test(hex.trim())) throw new Error(`${where} does not hold a device key (${KEY_BYTES * 2} hex digits)`);
  return key;
}

/**
 * The key the profile's device stores are encrypted with, made on first use. With a sealer (the shell's
 * keychain) it is kept sealed; without, in a file only the user may read: one that others may read is
 * refused rather than used.
 */
export function deviceStoreKey(profileDir: string, sealer?: KeySealer): Buffer {
  if (sealer !== undefined) {
    const file = join(profileDir, SEALED_KEY_FILE);
    if (existsSync(file)) {
      let opened: string;
      try {
        opened = sealer.open(readFileSync(file, 'utf8').trim());
      } catch (error) {
        throw new Error(`${file} could not be unsealed by this user's keychain: ${error instanceof Error ? error.message : String(error)}`);
      }
      return parseKey(opened, file);
    }
    const key = randomBytes(KEY_BYTES);
    writeFileSync(file, `${sealer.seal(key.toString('hex'))}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
  const file = join(profileDir, KEY_FILE);
  if (!existsSync(file)) {
    const key = randomBytes(KEY_BYTES);
    // 'wx': never over a key another process made meanwhile.
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    throw new Error(`${file} may be read by other users (mode ${(statSync(file).mode & 0o777).toString(8)}): make it readable by you only (chmod 600)`);
  }
  return parseKey(readFileSync(file, 'utf8'), file);
}

/** A value as a device file holds it: MAGIC, the IV, the tag, then its JSON encrypted with AES-256-GCM. */
export function sealValue(key: Uint8Array, value: unknown): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(MAGIC);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]);
}

/** The value sealValue sealed; throws, naming `where`, when the bytes are not one or the key is not theirs. */
export function openSealed(sealed: Buffer, key: Uint8Array, where: string): unknown {
  if (sealed.length < MAGIC.length + IV_BYTES + TAG_BYTES || !sealed.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error(`${where} is not a LanChat device store`);
  }
  const iv = sealed.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
  const tag = sealed.subarray(MAGIC.length + IV_BYTES, MAGIC.length + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(MAGIC).setAuthTag(tag);
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(sealed.subarray(MAGIC.length + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new Error(`${where} could not be decrypted: it was saved with another key, or it was changed`);
  }
  return JSON.parse(plain.toString('utf8'));
}

/** Writes a sealed value to a new file renamed over the old, so a crash leaves one or the other whole. */
export async function saveSealed(file: string, key: Uint8Array, value: unknown): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, sealValue(key, value), { mode: 0o600 });
  await rename(temporary, file);
}

/** One device's saved state, encrypted: what is inside is EncryptedChats' (client/e2ee.ts), as JSON. */
export class DeviceStore {
  private readonly key: Buffer;

  constructor(
    readonly file: string,
    key: Uint8Array,
  ) {
    if (key.length !== KEY_BYTES) throw new Error(`a device store key is ${KEY_BYTES} bytes`);
    this.key = Buffer.from(key);
  }

  /** The saved value; undefined when nothing was saved yet. Throws, saying so, when the key is not the one it was saved with. */
  async load(): Promise<unknown> {
    let sealed: Buffer;
    try {
      sealed = await readFile(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return openSealed(sealed, this.key, this.file);
  }

  /** Replaces the saved value: a crash leaves the old or the new one whole. */
  save(value: unknown): Promise<void> {
    return saveSealed(this.file, this.key, value);
  }
}
