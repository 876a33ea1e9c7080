/**
 * Vitest's global setup: bundles the scripts tests start as processes (scripts.ts says why)
 * into a folder inside node_modules, where the bundle finds the packages it leaves out, and
 * removes it after the run.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { BUNDLE_ENV, SCRIPTS } from './scripts.js';

export default async function setup(): Promise<() => void> {
  const parent = join(process.cwd(), 'node_modules', '.cache');
  mkdirSync(parent, { recursive: true });
  const outDir = mkdtempSync(join(parent, 'lanchat-test-scripts-'));
  await build({
    configFile: false,
    root: process.cwd(),
    logLevel: 'warn',
    publicDir: false,
    build: {
      ssr: true,
      outDir,
      target: 'node20',
      minify: false,
      rolldownOptions: { input: SCRIPTS, output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' } },
    },
  });
  process.env[BUNDLE_ENV] = outDir;
  return () => rmSync(outDir, { recursive: true, force: true });
}
