/**
 * Builds the scripts tests start as processes (scripts.ts) into one ES bundle with vite, for Node 20:
 * vitest's global setup and Playwright's (e2e/global-setup.ts) each build one per run. Packages stay
 * outside it and are found in node_modules above `outDir`, which must therefore lie inside the repository.
 */
import { build } from 'vite';
import { SCRIPTS } from './scripts.js';

export async function bundleScripts(outDir: string): Promise<void> {
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
}
