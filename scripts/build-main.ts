/**
 * Builds the Electron main process into dist-main/electron:
 *   main.js     beside it search-worker.js (the search thread's entry) and the chunks the two share
 *               (node-bundle.ts); electron stays external, as Node's built-ins do;
 *   preload.cjs one CommonJS file: a sandboxed preload can require 'electron' and nothing else,
 *               and cannot be an ES module.
 * `npm run build:main`
 */
import { build } from 'vite';
import { NO_CONFIG, buildNodeBundle } from './node-bundle.js';

const outDir = 'dist-main/electron';

await buildNodeBundle({
  outDir,
  input: { main: 'src-main/electron/main.ts', 'search-worker': 'src-main/store/search-worker.ts' },
  sourcemap: true,
});

await build({
  ...NO_CONFIG,
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
