/**
 * Builds the Electron main process into dist-main/electron:
 *   main.js     ESM, every package left to node_modules (better-sqlite3 is native,
 *               pino starts worker threads; neither survives bundling), Node built-ins and electron external;
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
    ssr: 'src-main/electron/main.ts',
    outDir,
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    rolldownOptions: { output: { format: 'es', entryFileNames: 'main.js' } },
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
