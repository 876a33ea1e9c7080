import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../testing/harness.js';
import { NotAsSealed, openSealedFile, paddedSize, sealFile, sealedSize } from './file-seal.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => removeDir(dir)));

function folder(): string {
  const dir = tempDir('lanchat-seal-');
  dirs.push(dir);
  return dir;
}

describe('sealed files', () => {
  it('pad to Signal’s size buckets', () => {
    expect(paddedSize(1)).toBe(541);
    expect(paddedSize(541)).toBe(541);
    expect(paddedSize(542)).toBeGreaterThan(541);
    for (const size of [1000, 300_021, 10_000_000]) {
      expect(paddedSize(size)).toBeGreaterThanOrEqual(size);
      expect(paddedSize(size)).toBeLessThanOrEqual(Math.ceil(size * 1.05));
    }
  });

  it('open to the exact bytes under their key, with none of the plaintext in the ciphertext, a fresh key each time', async () => {
    const dir = folder();
    const content = Buffer.concat([Buffer.from('plain-marker '), randomBytes(700_000)]);
    writeFileSync(join(dir, 'plain'), content);
    const secret = await sealFile(join(dir, 'plain'), join(dir, 'sealed'));
    const sealed = readFileSync(join(dir, 'sealed'));
    expect(sealed.length).toBe(sealedSize(content.length));
    expect(sealed.includes(Buffer.from('plain-marker'))).toBe(false);
    expect(sealed.includes(content.subarray(1000, 1032))).toBe(false);
    await openSealedFile(join(dir, 'sealed'), join(dir, 'opened'), secret);
    expect(readFileSync(join(dir, 'opened')).equals(content)).toBe(true);
    const again = await sealFile(join(dir, 'plain'), join(dir, 'sealed-again'));
    expect(again.key).not.toBe(secret.key);
    expect(again.digest).not.toBe(secret.digest);
  });

  it('refuse a ciphertext changed by one bit, or checked against another digest or key, leaving nothing behind', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'plain'), randomBytes(5000));
    const secret = await sealFile(join(dir, 'plain'), join(dir, 'sealed'));
    const bytes = readFileSync(join(dir, 'sealed'));
    bytes[100]! ^= 1;
    writeFileSync(join(dir, 'flipped'), bytes);
    await expect(openSealedFile(join(dir, 'flipped'), join(dir, 'out'), secret)).rejects.toThrow(/not the one its sender sealed/);
    // A digest that matches the changed bytes: the GCM tag still refuses them.
    const { createHash } = await import('node:crypto');
    const forged = { ...secret, digest: createHash('sha256').update(bytes).digest('hex') };
    await expect(openSealedFile(join(dir, 'flipped'), join(dir, 'out'), forged)).rejects.toThrow(NotAsSealed);
    await expect(openSealedFile(join(dir, 'sealed'), join(dir, 'out'), { ...secret, key: randomBytes(32).toString('base64') })).rejects.toThrow(NotAsSealed);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(existsSync(join(dir, 'out.part'))).toBe(false);
    expect(statSync(join(dir, 'sealed')).size).toBe(sealedSize(5000));
  });
});
