/**
 * Builds the scripts tests start as processes (scripts.ts) into a new folder below `parent`, where the
 * bundle finds the native packages it leaves out when `parent` is inside the repository. Vitest's and
 * Playwright's global setups and the history checker point BUNDLE_ENV at it; the caller removes it.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { buildNodeBundle } from '../../scripts/node-bundle.js';
import { SCRIPTS } from './scripts.js';

export async function bundleScripts(parent: string, prefix: string): Promise<string> {
  mkdirSync(parent, { recursive: true });
  const outDir = mkdtempSync(join(parent, prefix));
  await buildNodeBundle({ outDir, input: SCRIPTS, packages: 'bundled' });
  return outDir;
}
