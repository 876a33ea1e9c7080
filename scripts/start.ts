/**
 * `npm start [-- --profile <name>] [-- --ui-port <n>]`: the desktop app where
 * Electron can run here (downloading its binary first when it is missing), the
 * browser shell where it cannot. Builds the UI (and the main process, for
 * Electron) first when they are missing or older than their sources.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBrowserShell } from '../src-main/web/run.js';
import { chooseShell } from '../src-main/desktop/electron-launch.js';
import { openBrowser } from '../src-main/desktop/open-browser.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
/** Electron's zip is about 100 MB; a slow link gets this long before the browser shell starts instead. */
const DOWNLOAD_TIME_LIMIT_MS = 10 * 60_000;

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

function runElectron(executable: string): void {
  buildMainIfStale();
  const child = spawn(executable, ['.', ...args], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function runBrowser(reason: string): Promise<void> {
  console.error(`lanchat: the desktop app cannot run here: ${reason}\nlanchat: starting the browser shell instead`);
  const { url } = await runBrowserShell(args);
  if (openBrowser(url)) console.error(`lanchat: opened ${url} in your browser`);
  else console.error(`lanchat: open this address in a browser on this machine: ${url}`);
}

async function main(): Promise<void> {
  buildRendererIfStale();
  const shell = await chooseShell({ root, timeoutMs: DOWNLOAD_TIME_LIMIT_MS, log: (line) => console.error(`lanchat: ${line}`) });
  if (shell.shell === 'electron') runElectron(shell.executable);
  else await runBrowser(shell.reason);
}

main().catch((error: unknown) => {
  console.error(`lanchat: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
