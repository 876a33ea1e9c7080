/**
 * Vitest's global setup, for the whole run:
 * - bundles the scripts tests start as processes (scripts.ts says why) into a folder inside
 *   node_modules, where the bundle finds the packages it leaves out;
 * - starts the PostgreSQL server the store tests share (pg/testing.ts), with a migrated template.
 * Workers find both through environment variables; both go when the run ends. Tests leave their
 * databases behind (pg/testing.ts says why): a rerun in watch mode drops them first.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { openPgStore } from '../store/pg/open.js';
import { MIGRATED_TEMPLATE, POSTGRES_PORT_ENV, dropTestDatabases, postgresMissing, startPostgres, type PostgresServer } from '../store/pg/testing.js';
import { BUNDLE_ENV, SCRIPTS } from './scripts.js';

async function bundleScripts(): Promise<string> {
  const parent = join(process.cwd(), 'node_modules', '.cache');
  mkdirSync(parent, { recursive: true });
  const outDir = mkdtempSync(join(parent, 'lanchat-test-scripts-'));
  await build({
    configFile: false,
    root: process.cwd(),
    logLevel: 'warn',
    publicDir: false,
    build: {
      ssr: true,
      outDir,
      target: 'node20',
      minify: false,
      rolldownOptions: { input: SCRIPTS, output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' } },
    },
  });
  return outDir;
}

async function startSharedPostgres(): Promise<PostgresServer | undefined> {
  if (postgresMissing) return undefined;
  const server = await startPostgres();
  await server.createDatabase(MIGRATED_TEMPLATE);
  await (await openPgStore(server.url(MIGRATED_TEMPLATE))).close();
  return server;
}

interface Shared {
  ready: Promise<{ outDir: string; postgres: PostgresServer | undefined }>;
  users: number;
}

/**
 * Vitest calls the setup once for the root config and once for each project that inherits it,
 * all in this process: they share one bundle and one server, which the last teardown removes.
 */
const KEY = Symbol.for('lanchat.test.global-setup');
const registry = globalThis as { [KEY]?: Shared };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let shared = registry[KEY];
  if (!shared) {
    const ready = Promise.all([bundleScripts(), startSharedPostgres()]).then(([outDir, postgres]) => ({ outDir, postgres }));
    shared = registry[KEY] = { ready, users: 0 };
    // Vitest keeps one list of these for the run, whichever project registers it.
    project.onTestsRerun(async () => {
      const { postgres } = await ready;
      if (postgres) await dropTestDatabases(postgres);
    });
  }
  shared.users++;
  const { outDir, postgres } = await shared.ready;
  process.env[BUNDLE_ENV] = outDir;
  if (postgres) process.env[POSTGRES_PORT_ENV] = String(postgres.port);
  return async () => {
    if (--shared.users > 0) return;
    delete registry[KEY];
    rmSync(outDir, { recursive: true, force: true });
    await postgres?.stop();
  };
}
