/** `npm start`'s browser shell opening the default browser, with a stand-in xdg-open that records what it was asked. */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { browserOpener, openBrowser } from './open-browser.js';

const URL = 'http://127.0.0.1:4321/?token=abc&x=1';
let dir = '';

function fakeOpener(name: string): { env: NodeJS.ProcessEnv; record: string } {
  dir = mkdtempSync(join(tmpdir(), 'lanchat-opener-'));
  const record = join(dir, 'args');
  writeFileSync(join(dir, name), `#!/bin/sh\nprintf '%s\\n' "$@" > "${record}.tmp" && mv "${record}.tmp" "${record}"\n`);
  chmodSync(join(dir, name), 0o755);
  return { env: { PATH: `${dir}:/usr/bin:/bin`, DISPLAY: ':0' }, record };
}

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('opening the browser shell in the default browser', () => {
  it('runs xdg-open with the URL, untouched, where a desktop session exists', async () => {
    const { env, record } = fakeOpener('xdg-open');
    expect(openBrowser(URL, { env, platform: 'linux' })).toBe(true);
    await expect.poll(() => existsSync(record)).toBe(true);
    expect(readFileSync(record, 'utf8')).toBe(`${URL}\n`);
  });

  it('falls back to gio where xdg-open is missing', () => {
    const { env } = fakeOpener('gio');
    expect(browserOpener(URL, { env: { ...env, PATH: dir }, platform: 'linux' })).toEqual({ command: 'gio', args: ['open', URL] });
  });

  it('opens nothing without a desktop session, saying why', () => {
    const { env, record } = fakeOpener('xdg-open');
    const noDisplay = { PATH: env.PATH };
    expect(browserOpener(URL, { env: noDisplay, platform: 'linux' })).toEqual({ none: expect.stringContaining('no desktop session') });
    expect(openBrowser(URL, { env: noDisplay, platform: 'linux' })).toBe(false);
    expect(existsSync(record)).toBe(false);
  });

  it('uses the system opener on macOS and Windows', () => {
    expect(browserOpener(URL, { env: {}, platform: 'darwin' })).toEqual({ command: 'open', args: [URL] });
    expect(browserOpener(URL, { env: {}, platform: 'win32' })).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', URL] });
  });
});
