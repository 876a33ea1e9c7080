/**
 * Builds the Electron main process into dist-main/electron:
 *   main.js     beside it search-worker.js and e2ee-history-worker.js (the entries of the host's search
 *               threads and of the device history's reader) and the chunks they share
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
  input: { main: 'src-main/electron/main.ts', 'search-worker': 'src-main/store/search-worker.ts', 'e2ee-history-worker': 'src-main/core/e2ee-history-worker.ts' },
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
