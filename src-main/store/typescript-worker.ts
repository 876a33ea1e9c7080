/**
 * Starting a worker thread whose code is one of the bundle's entries (the search worker, the device
 * history's reader), wherever the code runs: from a bundle (the app, the bench, the scripts tests start)
 * the entry `<name>.js` lies beside this chunk (scripts/node-bundle.ts emits flat); under vitest it is in
 * the test bundle (src-main/testing/scripts.ts); from the TypeScript sources (tsx) it is the .ts file.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** `name`: the entry's name in every bundle that starts it; `source`: its TypeScript file. */
export function entryWorker(name: string, source: URL, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  // Under vitest the entry is bundled already (src-main/testing/scripts.ts): it starts in a fraction of tsx's time.
  const bundle = process.env.LANCHAT_TEST_BUNDLE;
  if (bundle) return new Worker(join(bundle, `${name}.js`), { workerData });
  return typescriptWorker(source, workerData);
}

/**
 * A worker thread running a TypeScript module straight from the sources (tests, tsx). The worker
 * registers tsx's loader itself before it imports the module: `--import` in a worker's execArgv
 * does not take effect in Node 20.
 */
export function typescriptWorker(source: URL, workerData: unknown): Worker {
  const tsxApi = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs');
  const bootstrap = `import(${JSON.stringify(pathToFileURL(tsxApi).href)})
    .then(({ register }) => { register(); return import(${JSON.stringify(source.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
