/**
 * The installer's time limit (vitest.config.ts runs this file in the serial tail): within its 2 s
 * the installer must have started and asked the mirror, seconds on a loaded machine.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { environment, expectElectronMissing, mirror, root } from '../testing/electron-mirror.js';
import { chooseShell } from './electron-launch.js';

describe('npm start without a downloaded Electron', () => {
  beforeAll(expectElectronMissing);

  it('stops the installer at the time limit and says so', async () => {
    // Accepts the download and never answers it.
    const server = await mirror(() => undefined);
    const log: string[] = [];
    const shell = await chooseShell({
      root,
      // Long enough for the installer to start and reach the mirror on a loaded machine (2 s was not, at load 10).
      timeoutMs: 10_000,
      tickMs: 1_000,
      env: environment(server.url),
      log: (line) => log.push(line),
      installerOutput: () => undefined,
    });
    expect(server.requests.length).toBeGreaterThan(0);
    expect(log.some((line) => /^still downloading Electron \(\d+ s\)…$/.test(line))).toBe(true);
    expect(shell).toEqual({ shell: 'browser', reason: expect.stringMatching(/^could not download Electron \S+ from 127\.0\.0\.1:\d+: it did not finish within 10 s\./) });
  });
});
