/**
 * Builds the headless host, the `lanchat-host` command (package.json "bin"), into dist-host:
 *   lanchat-host.js  with a `#!/usr/bin/env node` line, and beside it search-worker.js and the chunks
 *                    the two share (node-bundle.ts); only the production dependencies need be installed.
 * `npm run build:host [-- <folder>]` (another folder than dist-host: the service test builds into its own);
 * then `node dist-host/lanchat-host.js --help`.
 */
import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT, buildNodeBundle } from './node-bundle.js';

const outDir = resolve(ROOT, process.argv[2] ?? 'dist-host');

await buildNodeBundle({
  outDir,
  input: { 'lanchat-host': 'src-main/cli/host.ts', 'search-worker': 'src-main/store/search-worker.ts' },
  sourcemap: true,
  banner: (chunk) => (chunk.name === 'lanchat-host' && chunk.isEntry ? '#!/usr/bin/env node' : ''),
});
chmodSync(resolve(outDir, 'lanchat-host.js'), 0o755);

console.log(`built ${outDir}/lanchat-host.js`);
