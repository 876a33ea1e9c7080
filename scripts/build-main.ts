/**
 * Builds the Electron main process into dist-main/electron:
 *   main.js     ESM, every package left to node_modules (better-sqlite3 is native,
 *               pino starts worker threads; neither survives bundling), Node built-ins and electron external;
 *               beside it search-worker.js (the search thread's entry) and the chunks the two share;
 *   preload.cjs one CommonJS file: a sandboxed preload can require 'electron' and nothing else,
 *               and cannot be an ES module.
 * `npm run build:main`
 */
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = 'dist-main/electron';
/** What both bundles share: no vite.config.ts (that one is the renderer's), no public folder. */
const shared = { configFile: false, root, logLevel: 'warn', publicDir: false } as const;

await build({
  ...shared,
  build: {
    // search-worker.js beside main.js, where src-main/store/search-pool.ts looks for it.
    ssr: true,
    outDir,
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    rolldownOptions: {
      input: { main: 'src-main/electron/main.ts', 'search-worker': 'src-main/store/search-worker.ts' },
      // Chunks beside the entries too: search-pool.ts finds the worker relative to its own chunk.
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    },
  },
});

await build({
  ...shared,
  build: {
    outDir,
    emptyOutDir: false,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: { entry: 'src-main/electron/preload.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rolldownOptions: { external: ['electron'] },
  },
});

console.log(`built ${outDir}/main.js and ${outDir}/preload.cjs`);
