/**
 * Builds the headless host, the `lanchat-host` command (package.json "bin"), into dist-host:
 *   lanchat-host.js  ESM with a `#!/usr/bin/env node` line; every package left to node_modules (the
 *                    production dependencies only: better-sqlite3 is native, pino starts worker threads),
 *                    Node built-ins external; beside it search-worker.js and the chunks the two share,
 *                    as search-pool.ts finds the worker relative to its own chunk.
 * `npm run build:host [-- <folder>]` (another folder than dist-host: the service test builds into its own);
 * then `node dist-host/lanchat-host.js --help`.
 */
import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = resolve(root, process.argv[2] ?? 'dist-host');

await build({
  configFile: false,
  root,
  logLevel: 'warn',
  publicDir: false,
  build: {
    ssr: true,
    outDir,
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    rolldownOptions: {
      input: { 'lanchat-host': 'src-main/cli/host.ts', 'search-worker': 'src-main/store/search-worker.ts' },
      output: {
        format: 'es',
        entryFileNames: '[name].js',
        chunkFileNames: '[name]-[hash].js',
        banner: (chunk) => (chunk.name === 'lanchat-host' && chunk.isEntry ? '#!/usr/bin/env node' : ''),
      },
    },
  },
});
chmodSync(resolve(outDir, 'lanchat-host.js'), 0o755);

console.log(`built ${outDir}/lanchat-host.js`);
