/**
 * What `npm start` runs: the desktop app when Electron can run here, after running Electron's
 * own installer (node_modules/electron/install.js, the `install-electron` command) when its
 * binary was never downloaded; the browser shell when that fails, with the reason and the fix.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkElectron } from './electron-check.js';

export type Shell = { shell: 'electron'; executable: string } | { shell: 'browser'; reason: string };

export interface ChooseShellOptions {
  root: string;
  /** The installer is stopped after this long. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Our own lines: what is happening and, every `tickMs`, that the download is still running. */
  log: (line: string) => void;
  tickMs?: number;
  /** The installer's own output (its error's stack, on failure): shown only under LANCHAT_DEBUG, on stderr by default. */
  installerOutput?: (text: string) => void;
}

/** Set (to anything) to see the installer's own output, a stack trace on failure, besides our one sentence. */
export const DEBUG_VARIABLE = 'LANCHAT_DEBUG';

const DEFAULT_TICK_MS = 10_000;

/** How to get the desktop app where the download failed; part of every fallback message. */
export const ELECTRON_FIX =
  'To get the desktop app, run "npx install-electron" on a machine that can reach github.com ' +
  '(or set ELECTRON_MIRROR to a mirror of the Electron releases first), or set ELECTRON_OVERRIDE_DIST_PATH ' +
  'to a folder holding an Electron build of the version in package.json (the folder with the electron executable).';

export async function chooseShell(options: ChooseShellOptions): Promise<Shell> {
  const env = options.env ?? process.env;
  const first = checkElectron(options.root, env);
  if (first.ok) return { shell: 'electron', executable: first.executable };
  if (!first.missing) return { shell: 'browser', reason: first.reason };

  const version = electronVersion();
  options.log(`Electron ${version} is not downloaded yet; running its installer (at most ${Math.round(options.timeoutMs / 1000)} s)…`);
  const installed = await runInstaller(options, env);
  if (!installed.ok) {
    const from = downloadHost(env);
    return { shell: 'browser', reason: `could not download Electron ${version} from ${from}: ${installed.reason}. ${ELECTRON_FIX}` };
  }
  const second = checkElectron(options.root, env);
  return second.ok ? { shell: 'electron', executable: second.executable } : { shell: 'browser', reason: second.reason };
}

function electronPackageDir(): string {
  return dirname(createRequire(import.meta.url).resolve('electron/package.json'));
}

function electronVersion(): string {
  return (createRequire(import.meta.url)('electron/package.json') as { version: string }).version;
}

function runInstaller(options: ChooseShellOptions, env: NodeJS.ProcessEnv): Promise<{ ok: true } | { ok: false; reason: string }> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(electronPackageDir(), 'install.js')], {
    env,
    // Piped, to read its error; its own progress bar would draw only on a terminal, after 30 s, hence our ticks.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const forward = env[DEBUG_VARIABLE] ? (options.installerOutput ?? ((text: string) => process.stderr.write(text))) : () => undefined;
  // The installer prints an error's stack on failure; its first line says what went wrong.
  let output = '';
  const take = (chunk: Buffer): void => {
    const text = chunk.toString();
    output += text;
    forward(text);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const tick = setInterval(
    () => options.log(`still downloading Electron (${Math.round((Date.now() - started) / 1000)} s)…`),
    options.tickMs ?? DEFAULT_TICK_MS,
  );
  let timedOut = false;
  const limit = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
  }, options.timeoutMs);
  return new Promise((resolve) => {
    const finish = (result: { ok: true } | { ok: false; reason: string }): void => {
      clearInterval(tick);
      clearTimeout(limit);
      resolve(result);
    };
    child.once('error', (error) => finish({ ok: false, reason: `its installer did not start: ${error.message}` }));
    child.once('exit', (code) => {
      if (timedOut) finish({ ok: false, reason: `it did not finish within ${Math.round(options.timeoutMs / 1000)} s` });
      else if (code === 0) finish({ ok: true });
      else finish({ ok: false, reason: failure(output) ?? `its installer exited with status ${code}` });
    });
  });
}

/** The installer's error in words: its first error line, without the class name a reader cannot use. */
function failure(output: string): string | undefined {
  const line = output
    .split('\n')
    .map((text) => text.trim())
    .find((text) => /error/i.test(text) && !text.startsWith('at '));
  if (line === undefined) return undefined;
  // Node's fetch says only "fetch failed" when no connection could be made (no network, a name that does not resolve).
  if (/fetch failed/i.test(line)) return 'the server could not be reached (no network, or a proxy or firewall in the way)';
  const status = /Response code (\d+)/i.exec(line);
  if (status) return `the server answered HTTP ${status[1]}`;
  return line.replace(/^\w*Error:\s*/, '');
}

/** Where the installer downloads from: the mirror when one is set, else GitHub. */
function downloadHost(env: NodeJS.ProcessEnv): string {
  const mirror = env.ELECTRON_MIRROR ?? env.npm_config_electron_mirror;
  if (!mirror) return 'github.com';
  try {
    return new URL(mirror).host;
  } catch {
    return mirror;
  }
}
