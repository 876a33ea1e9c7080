import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, describe, expect, it } from 'vitest';
import { AppErrorCode } from '../../src-shared/api.js';
import { openStore } from '../store/store.js';
import { TEST_PASSWORD_COST, removeDir, tempDir } from '../testing/harness.js';
import { AppCore } from './app.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A core whose room database (profile/host/chat.sqlite) the test prepares first. */
function coreWithDatabase(prepare: (file: string) => void): AppCore {
  const profileDir = tempDir('lanchat-app-');
  cleanups.push(() => removeDir(profileDir));
  mkdirSync(join(profileDir, 'host'), { recursive: true });
  prepare(join(profileDir, 'host', 'chat.sqlite'));
  const core = new AppCore({ profileDir, passwordCost: TEST_PASSWORD_COST });
  cleanups.push(() => core.shutdown());
  return core;
}

describe('hosting with an unusable database', () => {
  it('tells the user the file is damaged, names it, and leaves it as it was', async () => {
    const junk = randomBytes(32 * 1024);
    let file = '';
    const core = coreWithDatabase((path) => {
      file = path;
      writeFileSync(path, junk);
    });
    const result = await core.host({ roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' });
    expect(result).toMatchObject({
      ok: false,
      error: { code: AppErrorCode.DATABASE_UNUSABLE, message: expect.stringContaining(`"${file}" is not a LanChat database or is damaged`) },
    });
    expect(result.ok ? '' : result.error.message).toContain('The file was left as it is');
    expect(readFileSync(file).equals(junk)).toBe(true);
    expect((await core.session()).ok).toBe(true);
  });

  it('tells the user another program holds the database locked; hosting works once it lets go', async () => {
    let other: Database.Database | undefined;
    const core = coreWithDatabase((path) => {
      openStore(path).close();
      other = new Database(path);
      other.exec('BEGIN EXCLUSIVE');
    });
    const request = { roomName: 'Lab', port: 0, name: 'alice', password: 'alice-secret' };
    const locked = await core.host(request);
    expect(locked).toMatchObject({
      ok: false,
      error: { code: AppErrorCode.DATABASE_UNUSABLE, message: expect.stringContaining('is locked by another program') },
    });
    other!.exec('ROLLBACK');
    other!.close();
    expect(await core.host(request)).toMatchObject({ ok: true });
  });
});
