/**
 * A real full disk for tests: a small tmpfs mounted on a fresh folder (needs root; the tests
 * that use it are skipped with the reason otherwise), and a filler file that takes all of it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Mounts a tmpfs of `size` on a fresh folder; the reason it cannot, if it cannot. */
export function mountSmallDisk(size: string): { dir: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lanchat-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    rmdirSync(dir);
    return { skip: `cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]})` };
  }
}

/** Unmounts and removes what mountSmallDisk made; lazy, so a file a failed test left open does not keep it. */
export function unmountSmallDisk(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  rmdirSync(dir);
}

/** Writes `filler` until the disk refuses even one more byte. */
export function fillDisk(filler: string): void {
  const fd = openSync(filler, 'w');
  try {
    for (const chunk of [64 * 1024, 4096, 512, 1]) {
      const bytes = Buffer.alloc(chunk, 0x78);
      for (;;) {
        try {
          if (writeSync(fd, bytes) < chunk) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
