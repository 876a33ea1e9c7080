/**
 * How a test starts one of this repository's scripts as a process. Under vitest,
 * global-setup.ts has built them into one bundle first: `node --import tsx` spends about a
 * second of CPU transforming and loading the sources at every start, and the suite starts a
 * few dozen processes. Elsewhere (Playwright) a script runs from its sources.
 */
import { join } from 'node:path';

/** The scripts tests start, by their name in the bundle; src-main/store/search-pool.ts starts its worker thread from there too. */
export const SCRIPTS = {
  host: 'src-main/cli/host.ts',
  chat: 'src-main/cli/chat.ts',
  'watch-client': 'src-main/discovery/testing/watch-client.ts',
  impostor: 'src-main/discovery/testing/impostor.ts',
  flood: 'src-main/discovery/testing/flood.ts',
  srv: 'src-main/discovery/testing/srv.ts',
  'search-worker': 'src-main/store/search-worker.ts',
  'checker-clients': 'src-main/testing/checker/client-process.ts',
} as const;

/** Set by global-setup.ts to the folder it built the bundle in (search-pool.ts reads it by name: the store does not import tests' code). */
export const BUNDLE_ENV = 'LANCHAT_TEST_BUNDLE';

/** Node's arguments that run the script: its bundled entry if there is one, else the source through tsx. */
export function scriptArgs(script: string): string[] {
  const name = Object.entries(SCRIPTS).find(([, source]) => source === script)?.[0];
  const bundle = process.env[BUNDLE_ENV];
  return name && bundle ? [join(bundle, `${name}.js`)] : ['--import', 'tsx', script];
}
