/**
 * The browser shell's sealed session tokens (keyring.ts, issue 33 item 8) against a real keyring: GNOME
 * Keyring's Secret Service on a D-Bus session bus of the test's own; and with no Secret Service, none.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionTokenFile } from '../core/profile-files.js';
import { removeDir, tempDir } from '../testing/harness.js';
import { keyringTokenSealer } from './keyring.js';

const TOKEN = '_wrwlOlMbmCTWJ3dgm4KBIkwYXtethJfOvTUE-0vHuI';
const SERVER = '127.0.0.1:4000';
const hasTool = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const keyringTools = ['dbus-run-session', 'gnome-keyring-daemon', 'secret-tool'].every(hasTool);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** Sets environment variables until the test ends. */
function withEnv(values: Record<string, string | undefined>): void {
  const before = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (all: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(all)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  cleanups.push(() => apply(before));
}

/** A D-Bus session with an unlocked GNOME Keyring in a home of its own; resolves with the bus address. */
async function keyringSession(home: string): Promise<string> {
  const session: ChildProcess = spawn(
    'dbus-run-session',
    ['--', 'sh', '-c', 'printf keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; echo "$DBUS_SESSION_BUS_ADDRESS"; exec sleep 600'],
    { env: { ...process.env, HOME: home, DISPLAY: '' }, detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  cleanups.push(() => process.kill(-session.pid!, 'SIGTERM'));
  return new Promise((resolve, reject) => {
    let out = '';
    session.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    session.once('exit', (code) => reject(new Error(`the D-Bus session ended (${code})`)));
  });
}

function profile(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

describe.runIf(process.platform === 'linux')('the browser shell’s session tokens', () => {
  it('without a Secret Service on the session bus are kept as they are, in a file only their user reads', () => {
    const root = tempDir('lanchat-keyring-');
    cleanups.push(() => removeDir(root));
    withEnv({ DBUS_SESSION_BUS_ADDRESS: undefined, DISPLAY: undefined });
    const dir = profile(root, 'profile');
    const sealer = keyringTokenSealer(dir);
    expect(sealer).toBeUndefined();
    new SessionTokenFile(dir, sealer).save(SERVER, 'bob', TOKEN);
    expect(readFileSync(join(dir, 'session.json'), 'utf8')).toContain(TOKEN);
    expect(statSync(join(dir, 'session.json')).mode & 0o777).toBe(0o600);
  });

  it.skipIf(!keyringTools)('with GNOME Keyring are sealed, read back at the next start, and not by another profile’s key', async () => {
    const root = tempDir('lanchat-keyring-');
    cleanups.push(() => removeDir(root));
    const home = profile(root, 'home');
    withEnv({ DBUS_SESSION_BUS_ADDRESS: await keyringSession(home), DISPLAY: undefined });
    const dir = profile(root, 'profile');
    const sealer = keyringTokenSealer(dir);
    expect(sealer).toBeDefined();
    new SessionTokenFile(dir, sealer).save(SERVER, 'bob', TOKEN);
    const saved = readFileSync(join(dir, 'session.json'), 'utf8');
    expect(saved).not.toContain(TOKEN);
    expect(saved).toContain('sealed');
    // A new start reads the profile's key from the keyring again.
    expect(new SessionTokenFile(dir, keyringTokenSealer(dir)).tokenFor(SERVER, 'bob')).toBe(TOKEN);
    expect(new SessionTokenFile(dir, keyringTokenSealer(profile(root, 'other'))).tokenFor(SERVER, 'bob')).toBeUndefined();
    expect(new SessionTokenFile(dir).tokenFor(SERVER, 'bob')).toBeUndefined();
  });
});
