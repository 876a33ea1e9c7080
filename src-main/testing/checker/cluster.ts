/**
 * The checker's cluster topology: three host nodes as real processes on one PostgreSQL
 * database and one nats-server, as core/cluster.test.ts starts them, each behind a relay
 * (proxy.ts); user i's client connects to node i mod 3 with the other two as its alternates.
 * Faults: kill -9 of one node, started again a while later; a client's link cut in the middle
 * of a frame; one node stopped (SIGTERM) and started again at once with its clock an hour off,
 * as it stays from then on; NATS stopped and started again; PostgreSQL paused with SIGSTOP (every
 * process of its server) for a few seconds, then SIGCONT; PostgreSQL stopped (fast shutdown)
 * and started again a few seconds later on the same folder and port.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { nameKey } from '../../../src-shared/protocol/names.js';
import { nameSkeleton } from '../../../src-shared/text.js';
import { hashPassword } from '../../server/password.js';
import { openPgStore } from '../../store/pg/open.js';
import { POSTGRES_READY_ENV, type PostgresDatabases, startPostgres, testPostgres, uniqueDatabaseName } from '../../store/pg/testing.js';
import { TEST_PASSWORD_COST, removeDir, seedIdentity, tempDir, waitFor } from '../harness.js';
import { NatsServer } from '../nats.js';
import { freePort } from '../ports.js';
import { type HostProcess, STOP_TIMEOUT_MS, drawSkew, killHost, readLogLines, startHostProcess, stopHost } from './host-process.js';
import { LinkProxy } from './proxy.js';
import { type FaultKind, type Topology, userNames } from './workload.js';

export const CLUSTER_FAULTS: readonly FaultKind[] = ['kill', 'link-cut', 'clock-skew', 'nats-restart', 'pg-pause', 'pg-restart'];

const NODES = 3;
/** How long a killed node stays down, NATS stays stopped and PostgreSQL stays down once stopped. */
const DOWN_MS = 1500;
/** How long a stopping or starting PostgreSQL server may take. */
const PG_RESTART_TIMEOUT_MS = 60_000;
/** How long PostgreSQL stays paused unless told: the short run's (checker.test.ts); the command line's default is longer (run.ts). */
export const PG_PAUSE_MS = 4000;

/** A PostgreSQL server for the runs and what ends it: the tests' shared one under vitest (global-setup.ts), else one of our own. */
export async function clusterPostgres(): Promise<{ databases: PostgresDatabases; stop(): Promise<void> }> {
  if (process.env[POSTGRES_READY_ENV]) return { databases: await testPostgres(), stop: async () => undefined };
  const server = await startPostgres();
  return { databases: server, stop: () => server.stop() };
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The parent pid of a process, from /proc. */
function parentOf(pid: number): number | undefined {
  try {
    // The command name (field 2) is in parentheses and may hold spaces: the fields after the last ")" are plain.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The server's postmaster (the parent of a backend, ours, read while it lives) and its data folder. */
async function postmasterOf(url: string): Promise<{ pid: number; data: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number; data: string }>("SELECT pg_backend_pid() AS pid, current_setting('data_directory') AS data");
    const pid = parentOf(rows[0]!.pid);
    if (pid === undefined) throw new Error('cannot find the PostgreSQL server process');
    return { pid, data: rows[0]!.data };
  } finally {
    await client.end();
  }
}

/** The server's processes: its postmaster and all the postmaster's children. */
async function postgresProcesses(url: string): Promise<number[]> {
  const { pid: postmaster } = await postmasterOf(url);
  const children = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((p) => parentOf(p) === postmaster);
  return [postmaster, ...children];
}

/** Whether the server takes connections (not while it starts up or shuts down). */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Stops the server (fast shutdown: connections ended, a checkpoint; an immediate one would lose commits
 * here, as the tests' server commits asynchronously) and starts it again after `downMs` with the command
 * line and user it ran with, so on the same folder and port. Resolves once it answers again.
 */
async function restartPostgres(url: string, downMs: number): Promise<void> {
  const { pid, data } = await postmasterOf(url);
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const id = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)![1]);
  const [uid, gid] = [id('Uid'), id('Gid')];
  // postgres refuses to run as root: the tests' server runs as the postgres user when we are root (pg/testing.ts).
  const start = uid === process.getuid?.() ? command : ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...command];
  const lockFile = `${data}/postmaster.pid`;
  // One process stops and starts it, so that the server (under vitest the run's shared one) is started
  // again should this one die meanwhile; it is not detached, so a Ctrl-C of the command line still ends it.
  const script = [
    'kill -INT "$1"',
    'n=0; while [ -e "$2" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done',
    'sleep "$3"',
    'shift 3',
    'exec "$@"',
  ].join('\n');
  const restarter = spawn('sh', ['-c', script, 'sh', String(pid), lockFile, String(downMs / 1000), ...start], { stdio: 'ignore' });
  restarter.unref();
  let exit: string | undefined;
  restarter.once('exit', (code, signal) => (exit = `PostgreSQL did not start again (exit ${code ?? signal}): ${start.join(' ')}`));
  await waitFor(() => !existsSync(lockFile) || exit !== undefined, PG_RESTART_TIMEOUT_MS, 'PostgreSQL to stop');
  const deadline = Date.now() + PG_RESTART_TIMEOUT_MS;
  while (!(await answers(url))) {
    if (exit !== undefined) throw new Error(exit);
    if (Date.now() > deadline) throw new Error(`PostgreSQL did not answer within ${PG_RESTART_TIMEOUT_MS / 1000} s of its restart`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stops every process of the server with SIGSTOP; resolves once they are resumed `ms` later. */
async function pausePostgres(url: string, ms: number): Promise<void> {
  const pids = await postgresProcesses(url);
  // The resume is a process of its own, started first: should this one die meanwhile, the server
  // (under vitest the run's shared one) still resumes. A pid gone by then (our query's backend) is skipped.
  const resumer = spawn('sh', ['-c', `sleep ${ms / 1000}; kill -CONT ${pids.join(' ')} 2>/dev/null; true`], { detached: true, stdio: 'ignore' });
  const resumed = new Promise<void>((resolve) => resumer.once('exit', () => resolve()));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGSTOP');
    } catch {
      // Gone meanwhile: nothing to stop.
    }
  }
  await resumed;
}

/**
 * `relay`: the clients connect through relays (needed for link-cut). Without, they connect to the
 * nodes: the relays live in the checker's process, and at the operator's load of issue 32 passing
 * every byte twice there took the CPU the clients needed to keep the pace.
 */
export async function startCluster(users: number, postgres: PostgresDatabases, pgPauseMs = PG_PAUSE_MS, relay = true): Promise<Topology> {
  const dir = tempDir('lanchat-checker-cluster-');
  const database = uniqueDatabaseName('checker');
  await postgres.createDatabase(database);
  const url = postgres.url(database);
  const folders = [...Array(NODES).keys()].map((i) => join(dir, `node${i}`));
  const ports = await Promise.all(folders.map(() => freePort()));
  const nodes: (HostProcess | null)[] = [];
  const proxies: LinkProxy[] = [];
  /** How far each node's clock is off: its machine's, so a restart after a kill keeps it. */
  const skewsMs = folders.map(() => 0);
  let nats: NatsServer | undefined;
  const close = async (): Promise<void> => {
    for (const proxy of proxies) proxy.close();
    await Promise.allSettled(nodes.map((node) => node && killHost(node)));
    await nats?.stop();
    removeDir(dir);
  };
  try {
    // Every node presents the room's one certificate (docs/DEPLOYMENT.md).
    for (const folder of folders) mkdirSync(folder);
    await seedIdentity(folders[0]!);
    for (const folder of folders.slice(1)) for (const file of ['tls-key.pem', 'tls-cert.pem']) copyFileSync(join(folders[0]!, file), join(folder, file));
    const store = await openPgStore(url);
    try {
      for (const name of userNames(users)) {
        const passwordHash = await hashPassword(`${name}-secret`, TEST_PASSWORD_COST);
        await store.createUser({ name, nameKey: nameKey(name), skeleton: nameSkeleton(name), passwordHash, createdAt: Date.now() });
      }
    } finally {
      await store.close();
    }
    nats = await NatsServer.start(dir);
    const start = (i: number): Promise<HostProcess> => startHostProcess(folders[i]!, ports[i]!, ['--postgres', url, ...nats!.hostFlags.args], skewsMs[i]);
    // The first records the room's certificate and id; the others then start at once.
    nodes.push(await start(0));
    nodes.push(...(await Promise.all(folders.slice(1).map((_, i) => start(i + 1)))));
    if (relay) for (const i of ports.keys()) proxies.push(await LinkProxy.start(await freePort(), () => ports[i]!));

    const address = (i: number) => ({ host: '127.0.0.1', port: relay ? proxies[i % NODES]!.port : ports[i % NODES]! });
    const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    // A PostgreSQL fault that comes while another lasts starts once that one is over (a paused server cannot
    // be stopped, nor a stopped one paused).
    let postgresBack: Promise<void> = Promise.resolve();
    const postgresFault = (fault: () => Promise<void>): { over: Promise<void> } => {
      const over = postgresBack.then(fault);
      postgresBack = over.catch(() => undefined);
      return { over };
    };
    // NATS stopped by a fault, until it is started again.
    let natsBack: Promise<void> = Promise.resolve();
    // A node started while PostgreSQL or NATS is down exits, as an operator's would: it starts once both are
    // back, again if one went down meanwhile.
    const startOnceUp = async (i: number): Promise<HostProcess> => {
      for (let attempt = 1; ; attempt++) {
        await Promise.all([postgresBack, natsBack]);
        try {
          return await start(i);
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    };
    return {
      paceMs: 25,
      addresses: (user) => ({ primary: address(user), alternates: [1, 2].map((step) => address(user + step)) }),
      async inject(kind, random) {
        if (kind === 'kill' || kind === 'clock-skew') {
          // One that is up: the other may be down from a fault that still lasts.
          const up = [...nodes.keys()].filter((i) => nodes[i] !== null);
          const i = up[Math.floor(random() * up.length)]!;
          const node = nodes[i]!;
          nodes[i] = null;
          // Nothing listens at its address meanwhile: its clients see "refused", as they would without a relay.
          proxies[i]?.stopListening();
          const restart = async (): Promise<void> => {
            nodes[i] = await startOnceUp(i);
            await proxies[i]?.listen();
          };
          if (kind === 'kill') {
            await killHost(node);
            return { over: later(DOWN_MS).then(restart) };
          }
          skewsMs[i] = drawSkew(random);
          // A stop lets the store's queries finish: with PostgreSQL paused or down it stops once that is over,
          // and a pause that comes meanwhile holds it up for as long.
          return { over: postgresBack.then(() => stopHost(node, STOP_TIMEOUT_MS + pgPauseMs)).then(restart) };
        }
        if (kind === 'link-cut') {
          if (!relay) throw new Error('link-cut needs the relays');
          // A relay that holds a link, if one does: a node's users may all have moved to the others.
          const linked = proxies.filter((proxy) => proxy.linkCount > 0);
          const choice = linked.length > 0 ? linked : proxies;
          choice[Math.floor(random() * choice.length)]!.cutMidFrame();
          return { over: Promise.resolve() };
        }
        if (kind === 'nats-restart') {
          await nats!.stop();
          const over = later(DOWN_MS).then(() => nats!.start());
          natsBack = over.catch(() => undefined);
          return { over };
        }
        if (kind === 'pg-pause') return postgresFault(() => pausePostgres(url, pgPauseMs));
        if (kind === 'pg-restart') return postgresFault(() => restartPostgres(url, DOWN_MS));
        throw new Error(`a cluster has no fault "${kind}"`);
      },
      pids: () => nodes.map((node) => node?.child.pid),
      storedMessages: (prefix) =>
        query<{ clientMsgId: string; id: number }>(url, `SELECT client_msg_id AS "clientMsgId", id::int AS id FROM messages WHERE client_msg_id LIKE $1 || '%'`, [prefix]),
      logLines: () => folders.flatMap((folder) => readLogLines(join(folder, 'server.log'))),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
