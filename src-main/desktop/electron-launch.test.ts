/**
 * `npm start`'s choice of shell with Electron's real installer. The binary is not downloaded
 * here, and the installer is pointed (ELECTRON_MIRROR) at a loopback server, so the test never
 * depends on reaching the internet and never writes a binary into node_modules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkElectron } from './electron-check.js';
import { ELECTRON_FIX, chooseShell } from './electron-launch.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanup: (() => void)[] = [];

afterEach(() => {
  for (const undo of cleanup.splice(0)) undo();
});

async function mirror(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    handler!(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

function environment(mirrorUrl: string): NodeJS.ProcessEnv {
  const cache = mkdtempSync(join(tmpdir(), 'lanchat-electron-cache-'));
  cleanup.push(() => rmSync(cache, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: ':0', ELECTRON_MIRROR: mirrorUrl, electron_config_cache: cache };
  delete env.ELECTRON_OVERRIDE_DIST_PATH;
  return env;
}

describe('npm start without a downloaded Electron', () => {
  beforeAll(() => {
    // Where a binary was downloaded, there is nothing to install and this path cannot be tested.
    const check = checkElectron(root, { ...process.env, DISPLAY: ':0', ELECTRON_OVERRIDE_DIST_PATH: '' });
    if (check.ok || !check.missing) throw new Error(`this test needs Electron's binary to be missing: ${JSON.stringify(check)}`);
  });

  it('runs Electron’s installer and falls back to the browser shell with the reason and the fix when the download fails', async () => {
    const server = await mirror((_request, response) => response.writeHead(404).end());
    const log: string[] = [];
    let installerOutput = '';
    const shell = await chooseShell({
      root,
      timeoutMs: 60_000,
      env: environment(server.url),
      log: (line) => log.push(line),
      installerOutput: (text) => (installerOutput += text),
    });
    expect(server.requests.some((url) => /electron-v[\d.]+-\w+-\w+\.zip$/.test(url))).toBe(true);
    expect(log[0]).toMatch(/^Electron [\d.]+ is not downloaded yet; running its installer \(at most 60 s\)/);
    expect(installerOutput).toContain('404');
    expect(shell).toEqual({ shell: 'browser', reason: expect.stringContaining('the Electron download failed: HTTPError: Response code 404') });
    if (shell.shell === 'browser') expect(shell.reason).toContain(ELECTRON_FIX);
    expect(ELECTRON_FIX).toContain('ELECTRON_OVERRIDE_DIST_PATH');
  });

  it('stops the installer at the time limit and says so', async () => {
    // Accepts the download and never answers it.
    const server = await mirror(() => undefined);
    const log: string[] = [];
    const shell = await chooseShell({
      root,
      timeoutMs: 2_000,
      tickMs: 500,
      env: environment(server.url),
      log: (line) => log.push(line),
      installerOutput: () => undefined,
    });
    expect(server.requests.length).toBeGreaterThan(0);
    expect(log.some((line) => /^still downloading Electron \(\d+ s\)…$/.test(line))).toBe(true);
    expect(shell).toEqual({ shell: 'browser', reason: expect.stringContaining('the Electron download failed: it did not finish within 2 s') });
  });

  it('does not download without a display: the desktop app could not open a window anyway', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const log: string[] = [];
    const shell = await chooseShell({ root, timeoutMs: 60_000, env, log: (line) => log.push(line) });
    expect(shell).toEqual({ shell: 'browser', reason: 'there is no display: neither DISPLAY nor WAYLAND_DISPLAY is set' });
    expect(log).toEqual([]);
  });
});
