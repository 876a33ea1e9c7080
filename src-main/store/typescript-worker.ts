/**
 * A worker thread running a TypeScript module straight from the sources (tests, tsx). The worker
 * registers tsx's loader itself before it imports the module: `--import` in a worker's execArgv
 * does not take effect in Node 20.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export function typescriptWorker(source: URL, workerData: unknown): Worker {
  const tsxApi = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs');
  const bootstrap = `import(${JSON.stringify(pathToFileURL(tsxApi).href)})
    .then(({ register }) => { register(); return import(${JSON.stringify(source.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
