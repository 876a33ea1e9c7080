/**
 * Whether Electron can run the desktop app on this machine, and why not if it cannot.
 * Shared by `npm start` (downloads a missing binary, else falls back to the browser shell) and the
 * Electron e2e test (skips).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ElectronCheck =
  | { ok: true; executable: string }
  /** `missing`: the binary was never downloaded (Electron's installer can fetch it); otherwise it is there but cannot run here. */
  | { ok: false; reason: string; missing: boolean };

/**
 * Finds the Electron binary and checks that it starts and can load the native
 * SQLite module. Reads node_modules/electron/path.txt itself: importing the electron package
 * would try to download a missing binary.
 */
export function checkElectron(root: string, env: NodeJS.ProcessEnv = process.env): ElectronCheck {
  // Checked first: without a display there is no point in downloading a binary.
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { ok: false, reason: 'there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set', missing: false };
  }
  const packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(packageDir, 'path.txt');
  const overrideDir = env.ELECTRON_OVERRIDE_DIST_PATH;
  const binaryName = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  if (!overrideDir && binaryName === undefined) {
    return { ok: false, reason: 'its binary was never downloaded: node_modules/electron/path.txt is missing', missing: true };
  }
  const executable = overrideDir ? join(overrideDir, binaryName ?? 'electron') : join(packageDir, 'dist', binaryName!);
  // Under ELECTRON_OVERRIDE_DIST_PATH the user chose the binary: a download would not put it there.
  if (!existsSync(executable)) return { ok: false, reason: `${executable} does not exist`, missing: !overrideDir };
  const version = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 20_000, env });
  if (version.status !== 0) {
    const why = (version.error?.message ?? version.stderr).trim().split('\n')[0] || `exit status ${version.status}`;
    return { ok: false, reason: `${executable} does not run: ${why}`, missing: false };
  }
  // SQLite's binding is compiled for one ABI: Node's after npm install, Electron's after install-app-deps.
  const sqlite = spawnSync(executable, ['-e', "new (require('better-sqlite3-multiple-ciphers'))(':memory:').close()"], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
  });
  if (sqlite.status !== 0) {
    return {
      ok: false,
      reason:
        'better-sqlite3-multiple-ciphers is built for Node, not for Electron; run "npx electron-builder install-app-deps" once ' +
        '(and "npm rebuild better-sqlite3-multiple-ciphers" before running the tests under Node again)',
      missing: false,
    };
  }
  return { ok: true, executable };
}
