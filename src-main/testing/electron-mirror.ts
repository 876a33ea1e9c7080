/**
 * For the tests of `npm start`'s Electron installer (src-main/desktop/electron-launch*.test.ts): a
 * loopback server standing in for Electron's download mirror, and an environment that points the
 * installer at it with a cache folder of its own, so a test never reaches the internet and never
 * writes a binary into node_modules. Both go when the test ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { checkElectron } from '../desktop/electron-check.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Where a binary was downloaded there is nothing to install, and these tests cannot run. */
export function expectElectronMissing(): void {
  const check = checkElectron(root, { ...process.env, DISPLAY: ':0', ELECTRON_OVERRIDE_DIST_PATH: '' });
  if (check.ok || !check.missing) throw new Error(`this test needs Electron's binary to be missing: ${JSON.stringify(check)}`);
}

export async function mirror(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    handler!(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

export function environment(mirrorUrl: string): NodeJS.ProcessEnv {
  const cache = mkdtempSync(join(tmpdir(), 'lanchat-electron-cache-'));
  onTestFinished(() => rmSync(cache, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: ':0', ELECTRON_MIRROR: mirrorUrl, electron_config_cache: cache };
  delete env.ELECTRON_OVERRIDE_DIST_PATH;
  return env;
}
