/**
 * A throwaway PostgreSQL server for tests: Debian's PostgreSQL 15 binaries, a cluster in a
 * temporary folder, listening on a free loopback port and a unix socket inside that folder,
 * trusting connections from this machine only. initdb and postgres refuse to run as root, so
 * when the tests run as root both run as the `postgres` system user, which owns the folder.
 * Under vitest one cluster serves the whole run (global-setup.ts starts it: a start takes seconds,
 * and a file that started its own waited for it); test files reach it through `testPostgres()`
 * and each test takes a fresh database of its own, named for its process, copied from the
 * migrated template (CREATE DATABASE ... TEMPLATE takes milliseconds). Tests drop none: each DROP
 * DATABASE waits for a checkpoint, which tripled a store test's time; the run's folder goes at its end,
 * and a rerun in watch mode drops the last run's (dropTestDatabases).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Set by global-setup.ts to the port of the run's server. */
export const POSTGRES_PORT_ENV = 'LANCHAT_TEST_POSTGRES_PORT';
/** The run's template: a database global-setup.ts migrated to the latest schema. */
export const MIGRATED_TEMPLATE = 'lanchat_template';

/** The run's server (global-setup.ts started it): tests create and drop databases there, never stop it. */
export function testPostgres(): PostgresDatabases {
  const port = Number(process.env[POSTGRES_PORT_ENV]);
  if (!port) throw new Error(`${POSTGRES_PORT_ENV} is not set: src-main/testing/global-setup.ts starts the tests' PostgreSQL server`);
  return databases(port);
}

let names = 0;
/** A database name no other test of the run takes: files run in several processes at once on one server. */
export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${++names}`;
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

async function admin(port: number, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
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
    throw new Error(`initdb failed: ${(error as { stderr?: string }).stderr || (error as Error).message}`);
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
  // If the test process ends without afterAll (a crash), the server goes with it.
  const killOnExit = (): void => void child.kill('SIGQUIT');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    // Immediate shutdown: the data is thrown away, so the shutdown checkpoint would only cost time.
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
