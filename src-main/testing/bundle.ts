/**
 * Builds the scripts tests start as processes (scripts.ts) into one ES bundle with vite, for Node 20:
 * vitest's global setup and Playwright's (e2e/global-setup.ts) each build one per run. The packages go
 * into it too: loading them from node_modules (zod, pino, ws, pg, ts-mls, ... file by file through
 * Node's ES module loader) was a third of a browser shell's start, 0.45 of 1.2 s of CPU, and the runs
 * start some 140 shells and dozens of hosts and clients. Left out: native or optional modules (the
 * bundle finds them in node_modules above `outDir`, which must therefore lie inside the repository).
 */
import { build } from 'vite';
import { SCRIPTS } from './scripts.js';

/** better-sqlite3 loads its compiled addon; the others are optional native add-ons `ws` and `pg` try to require. */
const LEFT_OUT = ['better-sqlite3', 'pg-native', 'bufferutil', 'utf-8-validate'];

export async function bundleScripts(outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: process.cwd(),
    logLevel: 'warn',
    publicDir: false,
    ssr: { noExternal: true, external: LEFT_OUT },
    build: {
      ssr: true,
      outDir,
      target: 'node20',
      minify: false,
      rolldownOptions: { input: SCRIPTS, output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' } },
    },
  });
}
