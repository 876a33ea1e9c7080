/**
 * One running app per profile, whichever shell runs it: two cores on one profile would
 * write the same files and try to host the same room. The lock is a file holding the
 * owner's process id, created exclusively; a lock whose process is gone (a crash) is
 * taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type ProfileLock = { ok: true; release(): void } | { ok: false; pid: number };

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockProfile(profileDir: string, pid = process.pid): ProfileLock {
  const file = join(profileDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: 'wx', mode: 0o600 });
      let held = true;
      return {
        ok: true,
        release: () => {
          if (held) rmSync(file, { force: true });
          held = false;
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner: number;
    try {
      owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      // Released between our attempt and this read: try again.
      continue;
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== pid && isRunning(owner)) return { ok: false, pid: owner };
    // Left by a process that is gone (or unreadable, from a crash mid-write): take it over.
    rmSync(file, { force: true });
  }
  throw new Error(`could not lock the profile ${profileDir}`);
}
