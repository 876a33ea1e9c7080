/**
 * The bench's server processes run as the product does, from a bundle with plain Node, not
 * through tsx: tsx's loader thread adds about 30 MB of resident memory and seconds of start-up
 * (transpiling at each start), which the restart of `reconnect` and every memory figure would
 * otherwise measure. Built once per run as the app is (scripts/node-bundle.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, buildNodeBundle } from '../scripts/node-bundle.js';

let built: Promise<string> | null = null;

/**
 * Builds bench/host.ts, bench/baseline-server.ts, bench/tls-floor-server.ts, the search worker and the reconnect bench's client
 * threads (bench/reconnect-clients.ts: the app runs its client bundled too) once per process; resolves with the folder.
 */
export function buildServers(): Promise<string> {
  if (built) return built;
  // Inside node_modules so the bundles resolve the project's packages as its own files do;
  // a folder per run so two runs (a test and a bench) do not overwrite each other's.
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, 'lanchat-bench-'));
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  built = buildNodeBundle({
    outDir,
    input: {
      host: 'bench/host.ts',
      'baseline-server': 'bench/baseline-server.ts',
      'tls-floor-server': 'bench/tls-floor-server.ts',
      'search-worker': 'src-main/store/search-worker.ts',
      'reconnect-clients': 'bench/reconnect-clients.ts',
    },
  }).then(() => outDir);
  return built;
}
