/**
 * `npm start`'s choice of shell with Electron's real installer, pointed at a loopback mirror
 * (testing/electron-mirror.ts). The installer's time limit is in electron-launch-timed.test.ts,
 * which races a clock.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { environment, expectElectronMissing, mirror, root } from '../testing/electron-mirror.js';
import { ELECTRON_FIX, chooseShell } from './electron-launch.js';

describe('npm start without a downloaded Electron', () => {
  beforeAll(expectElectronMissing);

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
