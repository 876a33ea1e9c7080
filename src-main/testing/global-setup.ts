/**
 * Vitest's global setup, for the whole run:
 * - bundles the scripts tests start as processes (scripts.ts says why) into a folder inside
 *   node_modules, where the bundle finds the packages it leaves out;
 * - starts the PostgreSQL server the store tests share (pg/testing.ts), with a migrated template.
 *   The tests do not wait for it (seconds, most of the setup): the few that use it wait in testPostgres().
 * - points TMPDIR, where tests make their folders, into a tmpfs when the machine has one (testTmpdir).
 * Workers find all three through environment variables; all go when the run ends. Tests leave their
 * databases behind (pg/testing.ts says why): a rerun in watch mode drops them first.
 */
import { chmodSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openPgStore } from '../store/pg/open.js';
import { MIGRATED_TEMPLATE, POSTGRES_READY_ENV, dropTestDatabases, postgresMissing, startPostgres, type PostgresServer } from '../store/pg/testing.js';
import { BUNDLE_ENV } from './scripts.js';
import { bundleScripts } from './scripts-bundle.js';

async function startSharedPostgres(): Promise<PostgresServer | undefined> {
  if (postgresMissing) return undefined;
  const server = await startPostgres();
  await server.createDatabase(MIGRATED_TEMPLATE);
  await (await openPgStore(server.url(MIGRATED_TEMPLATE))).close();
  return server;
}

const TMPFS_MAGIC = 0x01021994;
const TMPFS_FREE_BYTES = 4 * 1024 ** 3;
const SHM = '/dev/shm';
const TMP_PREFIX = 'lanchat-test-';
/** No run lasts this long: an older folder is a killed run's, which would hold its memory until a reboot. */
const STALE_MS = 24 * 3600 * 1000;

/**
 * A folder for the run's temporary files in /dev/shm when that is a tmpfs with room to spare, else
 * undefined (the system's). On the shared disk, every SQLite database a test opens, checkpoints and
 * closes waited on fsync: under other programs' I/O that was about a fifth of the server and store tests' time.
 */
function testTmpdir(): string | undefined {
  try {
    const { type, bavail, bsize } = statfsSync(SHM);
    if (type !== TMPFS_MAGIC || bavail * bsize < TMPFS_FREE_BYTES) return undefined;
    for (const name of readdirSync(SHM)) {
      const path = join(SHM, name);
      if (name.startsWith(TMP_PREFIX) && Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
    }
    const dir = mkdtempSync(join(SHM, TMP_PREFIX));
    // The PostgreSQL server runs as its own user (pg/testing.ts) and must reach its folder in here.
    chmodSync(dir, 0o711);
    return dir;
  } catch {
    return undefined;
  }
}

/** Starts the server in the background; `readyFile` says when it is ready (pg/testing.ts reads it). */
function startSharedPostgresIn(readyFile: string): Promise<PostgresServer | undefined> {
  const announce = (ready: { port: number } | { error: string }): void => {
    writeFileSync(`${readyFile}.part`, JSON.stringify(ready));
    renameSync(`${readyFile}.part`, readyFile);
  };
  const started = startSharedPostgres();
  started.then(
    (server) => announce(server ? { port: server.port } : { error: postgresMissing ?? 'not started' }),
    (error: unknown) => announce({ error: error instanceof Error ? error.message : String(error) }),
  );
  // Its failure is told to the tests that use it; the teardown has nothing to stop then.
  return started.catch(() => undefined);
}

interface Shared {
  tmp: string | undefined;
  outDir: Promise<string>;
  postgres: Promise<PostgresServer | undefined>;
  readyFile: string;
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
    const tmp = testTmpdir();
    if (tmp) process.env['TMPDIR'] = tmp;
    const readyFile = join(mkdtempSync(join(tmpdir(), 'lanchat-test-postgres-')), 'ready.json');
    const postgres = startSharedPostgresIn(readyFile);
    shared = registry[KEY] = { tmp, outDir: bundleScripts(join(process.cwd(), 'node_modules', '.cache'), 'lanchat-test-scripts-'), postgres, readyFile, users: 0 };
    // Vitest keeps one list of these for the run, whichever project registers it.
    project.onTestsRerun(async () => {
      const server = await postgres;
      if (server) await dropTestDatabases(server);
    });
  }
  shared.users++;
  const { tmp, postgres, readyFile } = shared;
  const outDir = await shared.outDir;
  process.env[BUNDLE_ENV] = outDir;
  process.env[POSTGRES_READY_ENV] = readyFile;
  return async () => {
    if (--shared.users > 0) return;
    delete registry[KEY];
    rmSync(outDir, { recursive: true, force: true });
    await (await postgres)?.stop();
    rmSync(dirname(readyFile), { recursive: true, force: true });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };
}
