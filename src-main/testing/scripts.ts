/**
 * How a test starts one of this repository's scripts as a process. Vitest's global-setup.ts and
 * Playwright's (e2e/global-setup.ts) build them into one bundle first (scripts/node-bundle.ts): `node --import tsx`
 * spends about a second of CPU transforming and loading the sources at every start, and each suite
 * starts dozens of processes. Without a bundle (a script run by hand) a script runs from its sources.
 */
import { join } from 'node:path';

/** The scripts tests start, by their name in the bundle; the worker threads start from there too (store/typescript-worker.ts). */
export const SCRIPTS = {
  host: 'src-main/cli/host.ts',
  chat: 'src-main/cli/chat.ts',
  'watch-client': 'src-main/discovery/testing/watch-client.ts',
  impostor: 'src-main/discovery/testing/impostor.ts',
  flood: 'src-main/discovery/testing/flood.ts',
  spoof: 'src-main/discovery/testing/spoof.ts',
  srv: 'src-main/discovery/testing/srv.ts',
  'search-worker': 'src-main/store/search-worker.ts',
  'e2ee-history-worker': 'src-main/core/e2ee-history-worker.ts',
  'checker-clients': 'src-main/testing/checker/client-process.ts',
  // The browser shell, for Playwright: its bundle lies two folders below the repository's root, where
  // the shell (web/run.ts) finds the renderer's build, dist-renderer, as it does from src-main/web.
  web: 'src-main/web/main.ts',
} as const;

/** Set by the global setups to the folder they built the bundle in (store/typescript-worker.ts reads it by name: the store does not import tests' code). */
export const BUNDLE_ENV = 'LANCHAT_TEST_BUNDLE';

/** Node's arguments that run the script: its bundled entry if there is one, else the source through tsx. */
export function scriptArgs(script: string): string[] {
  const name = Object.entries(SCRIPTS).find(([, source]) => source === script)?.[0];
  const bundle = process.env[BUNDLE_ENV];
  return name && bundle ? [join(bundle, `${name}.js`)] : ['--import', 'tsx', script];
}
