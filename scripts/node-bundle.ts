/**
 * How every Node bundle of the project is built (the host, Electron's main process, the bench's
 * servers, the scripts tests start): vite for Node 20, one ES module per entry in `outDir` with the
 * chunks they share beside them (store/typescript-worker.ts finds a worker's entry relative to its own chunk).
 * Packages stay in node_modules, found from `outDir` upwards, unless `packages: 'bundled'`; Node's
 * built-ins stay external.
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
  /**
   * 'bundled' (the scripts tests start): loading the packages from node_modules (zod, pino, ws, pg,
   * ts-mls, ... file by file through Node's ES module loader) was a third of a browser shell's start,
   * 0.45 of 1.2 s of CPU, and a test run starts some 140 shells and dozens of hosts and clients.
   * What ships keeps them external: electron-builder packs node_modules, and a release is built once.
   */
  packages?: 'external' | 'bundled';
}

/** Native add-ons (the bundle finds them in node_modules above `outDir`), and the optional ones `ws` and `pg` try to require. */
const NATIVE = ['better-sqlite3-multiple-ciphers', 'pg-native', 'bufferutil', 'utf-8-validate'];

export async function buildNodeBundle({ outDir, input, emptyOutDir = true, sourcemap = false, banner, packages = 'external' }: NodeBundle): Promise<void> {
  await build({
    ...NO_CONFIG,
    ...(packages === 'bundled' ? { ssr: { noExternal: true, external: NATIVE } } : {}),
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
