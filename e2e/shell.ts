/**
 * One user of the e2e tests: a browser-shell process with its own profile folder,
 * and a page opened on the UI address it prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { SCRIPTS, scriptArgs } from '../src-main/testing/scripts.js';
import { stopChild } from '../src-main/testing/stop.js';

export interface ShellUser {
  name: string;
  /** LANCHAT_HOME of this shell; its profile folder is `<home>/<name>`. */
  home: string;
  url: string;
  context: BrowserContext;
  page: Page;
  process: ChildProcess;
  output: string[];
  /** What the page printed to its console (warnings and errors) and the errors it threw, as they came. */
  pageLog: string[];
  /** Stops the shell process (its hosted room and connection go with it). */
  stop(): Promise<void>;
}

const homes: string[] = [];
const running = new Set<ChildProcess>();
// A worker that exits with shells still up (a teardown that ran out of time) takes them with it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * `prepare` may fill the profile folder (`<home>/<name>`) before the shell starts; `home`
 * starts it again on a stopped user's profile, as when the app restarts; `pageScript` runs in
 * the page before the app does (a test's recorder).
 */
export async function startShell(
  browser: Browser,
  name: string,
  prepare?: (profileDir: string) => void | Promise<void>,
  home?: string,
  pageScript?: () => void,
): Promise<ShellUser> {
  if (home === undefined) {
    home = mkdtempSync(join(tmpdir(), `lanchat-e2e-${name}-`));
    homes.push(home);
  }
  await prepare?.(join(home, name));
  const child = spawn(process.execPath, [...scriptArgs(SCRIPTS.web), '--profile', name, '--ui-port', '0'], {
    env: { ...process.env, LANCHAT_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  // The browser's side is made while the shell starts (seconds on a loaded machine), not after it.
  const opened = browser.newContext().then(async (context) => {
    if (pageScript) await context.addInitScript(pageScript);
    return { context, page: await context.newPage() };
  });
  const output: string[] = [];
  const printed = new Promise<string>((resolve, reject) => {
    // Only a shell that hangs: on a loaded machine a sound one took 27 to 44 s (bundled; load 33).
    const timer = setTimeout(() => reject(new Error(`shell for ${name} printed no UI line:\n${output.join('')}`)), 60_000);
    const take = (chunk: Buffer): void => {
      output.push(chunk.toString());
      const match = /UI: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => reject(new Error(`shell for ${name} exited with ${code}:\n${output.join('')}`)));
  });
  const [url, { context, page }] = await Promise.all([printed, opened]).catch(async (error: unknown) => {
    await opened.then(({ context }) => context.close(), () => undefined);
    // A shell that hung before its UI line is not left running.
    await stopChild(child);
    throw error;
  });
  const pageLog: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning' || message.type() === 'error') pageLog.push(`${new Date().toISOString()} ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => pageLog.push(`${new Date().toISOString()} thrown: ${error.stack ?? error.message}`));
  await page.goto(url);
  const stop = async (): Promise<void> => {
    await context.close().catch(() => undefined);
    await stopChild(child);
  };
  return { name, home, url, context, page, process: child, output, pageLog, stop };
}

export function removeHomes(): void {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
}
