/**
 * A real full disk for tests: a small tmpfs mounted on a fresh folder (needs root; the tests
 * that use it are skipped with the reason otherwise), and a filler file that takes all of it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, afterAll, beforeAll } from 'vitest';

/** Mounts a tmpfs of `size` on a fresh folder; the reason it cannot, if it cannot. */
function mountSmallDisk(size: string): { dir: string } | { skip: string } {
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
function unmountSmallDisk(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  rmdirSync(dir);
}

/**
 * A small disk for the tests of the describe block this is called in: mounted before the first of them
 * runs and unmounted after the last, so a run that filters them out mounts nothing. `dir(context)`
 * skips the test, with the reason, where no tmpfs can be mounted.
 */
export function useSmallDisk(size: string): { dir: (context: TestContext) => string } {
  let disk: { dir: string } | { skip: string } = { skip: 'not mounted yet' };
  beforeAll(() => {
    disk = mountSmallDisk(size);
  });
  afterAll(() => {
    if ('dir' in disk) unmountSmallDisk(disk.dir);
  });
  return { dir: (context) => ('dir' in disk ? disk.dir : context.skip(disk.skip)) };
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
