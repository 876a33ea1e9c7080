/**
 * `npm start`'s choice of shell with Electron's real installer, pointed at a loopback mirror
 * (testing/electron-mirror.ts). The installer's time limit is in electron-launch-timed.test.ts,
 * which races a clock.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { environment, expectElectronMissing, mirror, root } from '../testing/electron-mirror.js';
import { DEBUG_VARIABLE, ELECTRON_FIX, chooseShell } from './electron-launch.js';

/** A loopback port nothing listens on: the download's connection is refused, as with no network. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('npm start without a downloaded Electron', () => {
  beforeAll(expectElectronMissing);

  it('runs Electron’s installer and falls back to the browser shell with the reason and the fix when the download fails', async () => {
    const server = await mirror((_request, response) => response.writeHead(404).end());
    const log: string[] = [];
    let installerOutput = '';
    const shell = await chooseShell({
      root,
      timeoutMs: 60_000,
      env: { ...environment(server.url), [DEBUG_VARIABLE]: '1' },
      log: (line) => log.push(line),
      installerOutput: (text) => (installerOutput += text),
    });
    expect(server.requests.some((url) => /electron-v[\d.]+-\w+-\w+\.zip$/.test(url))).toBe(true);
    expect(log[0]).toMatch(/^Electron [\d.]+ is not downloaded yet; running its installer \(at most 60 s\)/);
    expect(installerOutput).toContain('404');
    const host = new URL(server.url).host;
    expect(shell).toEqual({ shell: 'browser', reason: expect.stringMatching(new RegExp(`^could not download Electron [\\d.]+ from ${host}: the server answered HTTP 404\\. `)) });
    if (shell.shell === 'browser') expect(shell.reason).toContain(ELECTRON_FIX);
    expect(ELECTRON_FIX).toContain('ELECTRON_OVERRIDE_DIST_PATH');
  });

  it('says in one sentence that the network could not be reached, with no stack trace unless LANCHAT_DEBUG is set', async () => {
    const env = environment(`http://127.0.0.1:${await closedPort()}/`);
    delete env[DEBUG_VARIABLE];
    let installerOutput = '';
    const shell = await chooseShell({ root, timeoutMs: 60_000, env, log: () => undefined, installerOutput: (text) => (installerOutput += text) });
    expect(installerOutput).toBe('');
    if (shell.shell !== 'browser') throw new Error('expected the browser shell');
    const [sentence] = shell.reason.split(ELECTRON_FIX);
    expect(sentence).toMatch(/^could not download Electron [\d.]+ from 127\.0\.0\.1:\d+: the server could not be reached \(no network, or a proxy or firewall in the way\)\. $/);
    expect(shell.reason).not.toMatch(/TypeError|\n/);
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
