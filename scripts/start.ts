/**
 * `npm start [-- --profile <name>] [-- --ui-port <n>]`: the desktop app where
 * Electron can run here, the browser shell where it cannot. Builds the UI (and
 * the main process, for Electron) first when they are missing or older than
 * their sources.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBrowserShell } from '../src-main/web/run.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);

/** Latest modification time of any file under the given paths (relative to the root). */
function newestChange(paths: string[]): number {
  let newest = 0;
  const visit = (path: string): void => {
    if (!existsSync(path)) return;
    const stats = statSync(path);
    if (stats.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else {
      newest = Math.max(newest, stats.mtimeMs);
    }
  };
  for (const path of paths) visit(join(root, path));
  return newest;
}

function isStale(output: string, sources: string[]): boolean {
  const outputFile = join(root, output);
  return !existsSync(outputFile) || newestChange(sources) > statSync(outputFile).mtimeMs;
}

/** Runs a Node script from the repository and stops here if it fails. */
function runNode(what: string, nodeArgs: string[]): void {
  console.error(`lanchat: ${what}…`);
  const result = spawnSync(process.execPath, nodeArgs, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`lanchat: ${what} failed`);
    process.exit(result.status ?? 1);
  }
}

function buildRendererIfStale(): void {
  if (isStale('dist-renderer/index.html', ['src-renderer', 'src-shared', 'vite.config.ts'])) {
    runNode('building the UI', ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn']);
  }
}

function buildMainIfStale(): void {
  if (isStale('dist-main/electron/main.js', ['src-main', 'src-shared', 'scripts/build-main.ts'])) {
    runNode('building the main process', ['--import', 'tsx', 'scripts/build-main.ts']);
  }
}

type ElectronCheck = { ok: true; executable: string } | { ok: false; reason: string };

/**
 * Finds the Electron binary and checks that it starts and can load the native
 * SQLite module. Reads node_modules/electron/path.txt itself: require('electron')
 * would try to download a missing binary.
 */
function checkElectron(): ElectronCheck {
  const packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(packageDir, 'path.txt');
  const overrideDir = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const binaryName = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  if (!overrideDir && binaryName === undefined) {
    return { ok: false, reason: 'its binary was never downloaded: node_modules/electron/path.txt is missing' };
  }
  const executable = overrideDir ? join(overrideDir, binaryName ?? 'electron') : join(packageDir, 'dist', binaryName!);
  if (!existsSync(executable)) return { ok: false, reason: `${executable} does not exist` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { ok: false, reason: 'there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set' };
  }
  const version = spawnSync(executable, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (version.status !== 0) {
    const why = (version.error?.message ?? version.stderr).trim().split('\n')[0] || `exit status ${version.status}`;
    return { ok: false, reason: `${executable} does not run: ${why}` };
  }
  // better-sqlite3 is compiled for one ABI: Node's after npm install, Electron's after install-app-deps.
  const sqlite = spawnSync(executable, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  if (sqlite.status !== 0) {
    return {
      ok: false,
      reason:
        'better-sqlite3 is built for Node, not for Electron; run "npx electron-builder install-app-deps" once ' +
        '(and "npm rebuild better-sqlite3" before running the tests under Node again)',
    };
  }
  return { ok: true, executable };
}

function runElectron(executable: string): void {
  buildMainIfStale();
  const child = spawn(executable, ['.', ...args], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function isOnPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

async function runBrowser(reason: string): Promise<void> {
  console.error(`Electron is not available on this machine (${reason}); starting the browser shell instead`);
  const { url } = await runBrowserShell(args);
  if ((process.env.DISPLAY || process.env.WAYLAND_DISPLAY) && isOnPath('xdg-open')) {
    spawn('xdg-open', [url], { detached: true, stdio: 'ignore' }).on('error', () => undefined).unref();
  }
}

async function main(): Promise<void> {
  buildRendererIfStale();
  const electron = checkElectron();
  if (electron.ok) runElectron(electron.executable);
  else await runBrowser(electron.reason);
}

main().catch((error: unknown) => {
  console.error(`lanchat: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
