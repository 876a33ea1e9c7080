/**
 * How every Node bundle of the project is built (the host, Electron's main process, the bench's
 * servers, the scripts tests start): vite for Node 20, one ES module per entry in `outDir` with the
 * chunks they share beside them (search-pool.ts finds the search worker relative to its own chunk).
 * Every package stays in node_modules (better-sqlite3 is native, pino starts worker threads; neither
 * survives bundling), found from `outDir` upwards; Node's built-ins stay external.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** The repository: bundles resolve its packages as its own files do. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** No vite.config.ts (that one is the renderer's) and no public folder. */
export const NO_CONFIG = { configFile: false, root: ROOT, logLevel: 'warn', publicDir: false } as const;

export interface NodeBundle {
  outDir: string;
  /** Entry name (the file `<name>.js`) → source file, from the repository's root. */
  input: Record<string, string>;
  emptyOutDir?: boolean;
  sourcemap?: boolean;
  /** A first line for an entry, e.g. a `#!` line. */
  banner?: (chunk: { name: string; isEntry: boolean }) => string;
}

export async function buildNodeBundle({ outDir, input, emptyOutDir = true, sourcemap = false, banner }: NodeBundle): Promise<void> {
  await build({
    ...NO_CONFIG,
    build: {
      ssr: true,
      outDir,
      emptyOutDir,
      target: 'node20',
      sourcemap,
      rolldownOptions: {
        input,
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', ...(banner ? { banner } : {}) },
      },
    },
  });
}
