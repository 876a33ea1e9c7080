import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_ENV } from '../src-main/testing/scripts.js';
import { bundleScripts } from '../src-main/testing/scripts-bundle.js';

/**
 * Builds the renderer once, which every browser shell in the run serves, and the shell itself with the
 * other scripts specs start (src-main/testing/scripts.ts): through tsx each shell spent about a second of
 * CPU loading the sources, and its search thread seconds more, at every one of the run's 140-odd starts.
 * The bundle sits two folders below the repository's root, where the shell finds dist-renderer; the
 * workers find it through BUNDLE_ENV (Playwright hands them this process's environment).
 */
export default async function globalSetup(): Promise<() => void> {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  const outDir = await bundleScripts(join(process.cwd(), '.e2e-bundle'), 'run-');
  process.env[BUNDLE_ENV] = outDir;
  return () => rmSync(outDir, { recursive: true, force: true });
}
