/**
 * A throwaway PostgreSQL server for tests: Debian's PostgreSQL 15 binaries, a cluster in a
 * temporary folder, listening on a free loopback port and a unix socket inside that folder,
 * trusting connections from this machine only. initdb and postgres refuse to run as root, so
 * when the tests run as root both run as the `postgres` system user, which owns the folder.
 * Under vitest one cluster serves the whole run (global-setup.ts starts it: a start takes seconds,
 * and a file that started its own waited for it); test files reach it through `testPostgres()`
 * and take databases of their own, named for their process, copied from the migrated template.
 * The store tests take one per worker and empty it before each test (emptyTestDatabase): a copy per
 * test took no less time, and hundreds of copies stayed in the run's folder, a tmpfs (memory) when
 * the machine has one (global-setup.ts).
 * Tests drop none: each DROP DATABASE waits for a checkpoint, which tripled a store test's time;
 * the run's folder goes at its end, and a rerun in watch mode drops the last run's (dropTestDatabases).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../testing/ports.js';

const BIN = '/usr/lib/postgresql/15/bin';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Why PostgreSQL tests cannot run here (the binaries are absent), or undefined when they can. */
export const postgresMissing: string | undefined = existsSync(join(BIN, 'postgres'))
  ? undefined
  : `PostgreSQL 15 is not installed (${BIN}/postgres is absent; .ci/run installs the Debian package postgresql)`;

/** The databases of a PostgreSQL server. */
export interface PostgresDatabases {
  /** A connection URL for the named database, over loopback TCP. */
  url(database: string): string;
  /** Creates a database, a copy of `template` when given (which nobody may be connected to). */
  createDatabase(name: string, template?: string): Promise<void>;
}

export interface PostgresServer extends PostgresDatabases {
  /** The loopback TCP port it listens on. */
  port: number;
  /** Immediate shutdown (open connections are ended), then the folder is removed in the background. */
  stop(): Promise<void>;
}

/**
 * Set by global-setup.ts to a file that says, once the run's server is up and its template migrated,
 * `{"port":N}` (or `{"error":"..."}`). The tests start meanwhile: most never wait for it.
 */
export const POSTGRES_READY_ENV = 'LANCHAT_TEST_POSTGRES_READY';
/** The run's template: a database global-setup.ts migrated to the latest schema. */
export const MIGRATED_TEMPLATE = 'lanchat_template';
const READY_TIMEOUT_MS = 60_000;

let readyPort: Promise<number> | undefined;

/** The run's server (global-setup.ts starts it), once ready: tests create databases there, never stop it. */
export async function testPostgres(): Promise<PostgresDatabases> {
  const file = process.env[POSTGRES_READY_ENV];
  if (!file) throw new Error(`${POSTGRES_READY_ENV} is not set: src-main/testing/global-setup.ts starts the tests' PostgreSQL server`);
  readyPort ??= waitForReady(file);
  return databases(await readyPort);
}

async function waitForReady(file: string): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`the tests' PostgreSQL server was not ready within ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const ready = JSON.parse(readFileSync(file, 'utf8')) as { port: number } | { error: string };
  if ('error' in ready) throw new Error(`the tests' PostgreSQL server did not start: ${ready.error}`);
  return ready.port;
}

let names = 0;
/** A database name no other test of the run takes: files run in several processes at once on one server. */
export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${++names}`;
}

let workerDatabase: Promise<string> | undefined;
/** PostgreSQL's error code for a database that does not exist. */
const INVALID_CATALOG_NAME = '3D000';

/**
 * The URL of this process's store-test database, as the migrated template left it: created from
 * the template on the first call, emptied on the next ones. Emptying equals a fresh copy because
 * the template's tables are empty and every sequence belongs to a column (checked at creation);
 * a connection a failed test left open is ended first, so that it holds no lock.
 */
export async function emptyTestDatabase(): Promise<string> {
  if (!workerDatabase) {
    workerDatabase = createWorkerDatabase();
    return workerDatabase;
  }
  const url = await workerDatabase;
  try {
    await withClient(url, async (client) => {
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      const { rows } = await client.query<{ name: string }>(`SELECT format('%I', tablename) AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_version'`);
      await client.query(`TRUNCATE ${rows.map((row) => row.name).join(', ')} RESTART IDENTITY`);
    });
  } catch (error) {
    // A rerun in watch mode dropped it (dropTestDatabases): this worker takes a new one.
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) throw error;
    workerDatabase = undefined;
    return emptyTestDatabase();
  }
  return url;
}

async function createWorkerDatabase(): Promise<string> {
  const name = uniqueDatabaseName('test');
  const postgres = await testPostgres();
  await postgres.createDatabase(name, MIGRATED_TEMPLATE);
  const url = postgres.url(name);
  await withClient(url, async (client) => {
    const { rows: tables } = await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_version'`);
    for (const { name: table } of tables) {
      const { rows } = await client.query(`SELECT 1 FROM "${table}" LIMIT 1`);
      if (rows.length > 0) throw new Error(`the migrated template's table ${table} holds rows: emptyTestDatabase would lose them`);
    }
    const { rows: loose } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))`,
    );
    if (loose.length > 0) throw new Error(`sequences of no column (${loose.map((row) => row.name).join(', ')}): TRUNCATE ... RESTART IDENTITY would not reset them`);
  });
  return url;
}

function databases(port: number): PostgresDatabases {
  const url = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    url,
    createDatabase: (name, template) =>
      admin(port, async (client) => {
        await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
      }),
  };
}

function admin(port: number, work: (client: pg.Client) => Promise<void>): Promise<void> {
  return withClient(`postgres://postgres@127.0.0.1:${port}/postgres`, work);
}

async function withClient(url: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/** Drops every database but the template and PostgreSQL's own, ending the connections still open to them. */
export function dropTestDatabases(server: PostgresServer): Promise<void> {
  return admin(server.port, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> ALL($1)',
      [['postgres', MIGRATED_TEMPLATE]],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}

/** Runs a PostgreSQL binary as the postgres user when we are root (it refuses root), as ourselves otherwise. */
function asPostgres(binary: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [join(BIN, binary), args];
  // setpriv execs the binary itself, so signals sent to the child reach postgres directly.
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', join(BIN, binary), ...args]];
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  if (postgresMissing) throw new Error(postgresMissing);
  const dir = mkdtempSync(join(tmpdir(), 'lanchat-pg-'));
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  mkdirSync(sockets);
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    chownSync(sockets, uid, gid);
  }
  const [initdb, initArgs] = asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  try {
    // Not spawnSync: the global setup bundles the test scripts on this thread meanwhile.
    await promisify(execFile)(initdb, initArgs, { timeout: START_TIMEOUT_MS });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const { stderr, killed } = error as { stderr?: string; killed?: boolean };
    throw new Error(`initdb failed: ${killed ? `not done within ${START_TIMEOUT_MS / 1000} s (the machine's load average is ${loadavg()[0]!.toFixed(0)})` : stderr || (error as Error).message}`);
  }
  // Another program may take the port between freePort and postgres binding it: postgres then
  // exits, and starts again on another. Readiness is asked through our own unix socket, so it is
  // never another server that answers.
  let server: { child: ChildProcess; port: number; log: () => string } | undefined;
  let failures = '';
  for (let attempt = 1; attempt <= 3 && !server; attempt++) {
    const started = await startServer(data, sockets, await freePort());
    if (started.ready) server = started;
    else failures += `\nattempt ${attempt}: ${started.log()}`;
  }
  if (!server) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postgres did not start:${failures}`);
  }
  const { child, port } = server;
  // The history checker's pg-restart fault stops this server and starts another on the same folder and
  // port, a process that is not our child: the one to stop is the one the folder's lock file names.
  const lockFile = join(data, 'postmaster.pid');
  const running = (): number | undefined => {
    try {
      return Number(readFileSync(lockFile, 'utf8').split('\n', 1)[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  // If the test process ends without afterAll (a crash), the server goes with it.
  const killOnExit = (): void => void signal(running() ?? child.pid, 'SIGQUIT');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    // Immediate shutdown: the data is thrown away, so the shutdown checkpoint would only cost time.
    const other = running();
    if (other !== undefined && other !== child.pid) {
      signal(other, 'SIGQUIT');
      // Not our child, so no exit event: its lock file goes as it exits.
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (running() === other && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (running() === other) signal(other, 'SIGKILL');
    }
    child.kill('SIGQUIT');
    if (!(await exited(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await exited(child, STOP_TIMEOUT_MS);
    }
    // A file per table of every database the tests made: seconds to remove, which nothing waits for.
    spawn('rm', ['-rf', dir], { detached: true, stdio: 'ignore' }).unref();
  };

  return { ...databases(port), port, stop };
}

function signal(pid: number | undefined, name: NodeJS.Signals): void {
  try {
    if (pid !== undefined) process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

/** Starts postgres on `port` and waits until it answers on its unix socket, or has exited. */
async function startServer(
  data: string,
  sockets: string,
  port: number,
): Promise<{ ready: boolean; child: ChildProcess; port: number; log: () => string }> {
  const [postgres, args] = asPostgres('postgres', [
    '-D', data,
    '-p', String(port),
    '-k', sockets,
    // Loopback only; nothing else may reach a test's server.
    '-c', 'listen_addresses=127.0.0.1',
    // A test database is thrown away: durability only costs time here.
    '-c', 'fsync=off',
    '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off',
  ]);
  const child = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-4000);
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const client = new pg.Client({ host: sockets, port, user: 'postgres', database: 'postgres' });
    try {
      await client.connect();
      await client.end();
      return { ready: true, child, port, log: () => log };
    } catch {
      await client.end().catch(() => undefined);
      if (child.exitCode !== null || child.signalCode !== null) return { ready: false, child, port, log: () => log };
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited(child, STOP_TIMEOUT_MS);
        return { ready: false, child, port, log: () => log };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}
