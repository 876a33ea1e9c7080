/**
 * The checker's cluster topology: three host nodes as real processes on one PostgreSQL
 * database and one nats-server, as core/cluster.test.ts starts them; user i's client connects
 * to node i mod 3 with the other two as its alternates. Faults: kill -9 of one node, started
 * again a while later; NATS stopped and started again; PostgreSQL paused with SIGSTOP (every
 * process of its server) for a few seconds, then SIGCONT.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { nameKey } from '../../../src-shared/protocol/names.js';
import { nameSkeleton } from '../../../src-shared/text.js';
import { hashPassword } from '../../server/password.js';
import { openPgStore } from '../../store/pg/open.js';
import { POSTGRES_READY_ENV, type PostgresDatabases, startPostgres, testPostgres, uniqueDatabaseName } from '../../store/pg/testing.js';
import { TEST_PASSWORD_COST, removeDir, seedIdentity, tempDir } from '../harness.js';
import { NatsServer } from '../nats.js';
import { freePort } from '../ports.js';
import { type HostProcess, killHost, startHostProcess } from './host-process.js';
import { type FaultKind, type Topology, userNames } from './workload.js';

export const CLUSTER_FAULTS: readonly FaultKind[] = ['kill', 'nats-restart', 'pg-pause'];

const NODES = 3;
/** How long a killed node stays down and NATS stays stopped. */
const DOWN_MS = 1500;
/** How long PostgreSQL stays paused unless told. */
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

/** The server's processes: its postmaster (the parent of a backend, ours, read while it lives) and all the postmaster's children. */
async function postgresProcesses(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let postmaster: number | undefined;
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    postmaster = parentOf(rows[0]!.pid);
  } finally {
    await client.end();
  }
  if (postmaster === undefined) throw new Error('cannot find the PostgreSQL server process');
  const children = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((p) => parentOf(p) === postmaster);
  return [postmaster, ...children];
}

export async function startCluster(users: number, postgres: PostgresDatabases, pgPauseMs = PG_PAUSE_MS): Promise<Topology> {
  const dir = tempDir('lanchat-checker-cluster-');
  const database = uniqueDatabaseName('checker');
  await postgres.createDatabase(database);
  const url = postgres.url(database);
  const folders = [...Array(NODES).keys()].map((i) => join(dir, `node${i}`));
  const ports = await Promise.all(folders.map(() => freePort()));
  const nodes: (HostProcess | null)[] = [];
  let nats: NatsServer | undefined;
  const close = async (): Promise<void> => {
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
    const start = (i: number): Promise<HostProcess> => startHostProcess(folders[i]!, ports[i]!, ['--postgres', url, '--nats', nats!.url]);
    // The first records the room's certificate and id; the others then start at once.
    nodes.push(await start(0));
    nodes.push(...(await Promise.all(folders.slice(1).map((_, i) => start(i + 1)))));

    const address = (i: number) => ({ host: '127.0.0.1', port: ports[i % NODES]! });
    const later = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    return {
      paceMs: 25,
      addresses: (user) => ({ primary: address(user), alternates: [1, 2].map((step) => address(user + step)) }),
      async inject(kind, random) {
        if (kind === 'kill') {
          const i = Math.floor(random() * NODES);
          const node = nodes[i]!;
          nodes[i] = null;
          await killHost(node);
          return { over: later(DOWN_MS).then(async () => void (nodes[i] = await start(i))) };
        }
        if (kind === 'nats-restart') {
          await nats!.stop();
          return { over: later(DOWN_MS).then(() => nats!.start()) };
        }
        if (kind === 'pg-pause') {
          const pids = await postgresProcesses(url);
          // The resume is a process of its own, started first: should this one die meanwhile, the server
          // (under vitest the run's shared one) still resumes. A pid gone by then (our query's backend) is skipped.
          const resumer = spawn('sh', ['-c', `sleep ${pgPauseMs / 1000}; kill -CONT ${pids.join(' ')} 2>/dev/null; true`], { detached: true, stdio: 'ignore' });
          const resumed = new Promise<void>((resolve) => resumer.once('exit', () => resolve()));
          for (const pid of pids) {
            try {
              process.kill(pid, 'SIGSTOP');
            } catch {
              // Gone meanwhile: nothing to stop.
            }
          }
          return { over: resumed };
        }
        throw new Error(`a cluster has no fault "${kind}"`);
      },
      storedMessages: (prefix) =>
        query<{ clientMsgId: string; id: number }>(url, `SELECT client_msg_id AS "clientMsgId", id::int AS id FROM messages WHERE client_msg_id LIKE $1 || '%'`, [prefix]),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
