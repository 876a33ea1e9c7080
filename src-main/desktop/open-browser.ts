/**
 * Opens the browser shell's address in the person's default browser where a desktop session can
 * show one (`npm start`'s fallback), so nobody has to copy a URL with a token from a terminal.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface OpenBrowserOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/** The command that opens a URL in the default browser here, or why there is none. */
export function browserOpener(url: string, options: OpenBrowserOptions = {}): { command: string; args: string[] } | { none: string } {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // Not "start": cmd would read the token's characters as its own syntax.
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return { none: 'there is no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  if (isOnPath('xdg-open', env)) return { command: 'xdg-open', args: [url] };
  if (isOnPath('gio', env)) return { command: 'gio', args: ['open', url] };
  return { none: 'neither xdg-open nor gio is installed' };
}

/** Starts the opener without waiting for the browser; true if one was started. */
export function openBrowser(url: string, options: OpenBrowserOptions = {}): boolean {
  const opener = browserOpener(url, options);
  if ('none' in opener) return false;
  spawn(opener.command, opener.args, { detached: true, stdio: 'ignore', env: options.env ?? process.env })
    .on('error', () => undefined)
    .unref();
  return true;
}

function isOnPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}
