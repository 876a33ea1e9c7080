/**
 * The history checker from the command line (USAGE below). Prints each run's seed as it
 * starts, every anomaly with its detail, then a JSON summary; exits 1 on any anomaly.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Anomaly } from './check.js';
import { CLUSTER_FAULTS, clusterPostgres, startCluster } from './cluster.js';
import { faketimeMissing } from './host-process.js';
import { SINGLE_HOST_FAULTS, startSingleHost } from './single-host.js';
import { describeUsage } from './usage.js';
import { BUNDLE_ENV } from '../scripts.js';
import { bundleScripts } from '../scripts-bundle.js';
import { type FaultKind, runWorkload } from './workload.js';

/** As issue 32 has it; the short run in checker.test.ts pauses for startCluster's default, a few seconds. */
const PG_PAUSE_SECONDS = 20;
/** Two: on a machine of two cores, the operator's load kept one process of twelve clients on a whole core. */
const CLIENT_PROCESSES = 2;

const USAGE = [
  'usage: npm run checker -- [--topology single|cluster] [--seed N] [--runs N] [--operations N] [--users N] [--faults a,b] [--pg-pause-seconds N] [--pace-ms N] [--client-processes N]',
  '  --topology single: one host process on SQLite (default); cluster: three nodes on PostgreSQL and NATS',
  `  --faults: of ${SINGLE_HOST_FAULTS.join(', ')} (single) or ${CLUSTER_FAULTS.join(', ')} (cluster); all of the topology's by default, each once per run:`,
  '    kill: kill -9 of the host (a node), started again; link-cut: a client\'s link cut in the middle of a frame;',
  '    clock-skew: the host (a node) stopped and started again with its clock an hour off (libfaketime);',
  '    nats-restart: NATS stopped and started again; pg-pause: PostgreSQL stopped with SIGSTOP, then SIGCONT;',
  '    pg-restart: PostgreSQL shut down and started again on its folder and port',
  `  --pg-pause-seconds N: how long pg-pause holds PostgreSQL stopped (default ${PG_PAUSE_SECONDS}; past 15 s the apps' requests time out and go again)`,
  '  --seed N: the first run\'s seed (run k has N + k - 1); give an anomaly\'s seed with --runs 1 to replay it',
  '  --users N (at least 2, default 4) make --operations N operations (default 400): room, direct and group messages,',
  '    edits, deletes, reactions, read marks, group changes, and moves to another address with the session token',
  '  --pace-ms N: the mean pause between two operations (default 8 on one host, 25 in a cluster); 3 makes about 300 operations a second,',
  '    about 8 in 10 of them sends while the users are online',
  `  --client-processes N: how many processes run the users' clients, user i's in process i mod N (default ${CLIENT_PROCESSES})`,
  '  Each run prints its rate (operations, sends offered and acknowledged a second), the load average as the workload began and ended,',
  '  and where the CPU went meanwhile (Linux): each process\'s share of a core used and waiting for one, and how busy the cores were.',
].join('\n');

const { values } = parseArgs({
  options: {
    topology: { type: 'string', default: 'single' },
    seed: { type: 'string' },
    runs: { type: 'string', default: '1' },
    operations: { type: 'string', default: '400' },
    users: { type: 'string', default: '4' },
    faults: { type: 'string' },
    'pg-pause-seconds': { type: 'string', default: String(PG_PAUSE_SECONDS) },
    'pace-ms': { type: 'string' },
    'client-processes': { type: 'string', default: String(CLIENT_PROCESSES) },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const topology = values.topology;
if (topology !== 'single' && topology !== 'cluster') throw new Error(`--topology must be single or cluster\n${USAGE}`);
const allowed = topology === 'single' ? SINGLE_HOST_FAULTS : CLUSTER_FAULTS;
const faults = (values.faults?.split(',') ?? allowed.filter((fault) => fault !== 'clock-skew' || !faketimeMissing)).filter(Boolean) as FaultKind[];
for (const fault of faults) if (!allowed.includes(fault)) throw new Error(`unknown fault "${fault}" for --topology ${topology}: one of ${allowed.join(', ')}`);
if (faults.includes('clock-skew') && faketimeMissing) throw new Error(`clock-skew cannot run: ${faketimeMissing}`);
if (values.faults === undefined && faketimeMissing) console.log(`clock-skew left out: ${faketimeMissing}`);
const users = Number(values.users);
if (!Number.isInteger(users) || users < 2) throw new Error(`--users must be a whole number of at least 2 (direct messages need two people)\n${USAGE}`);

const pgPauseMs = Number(values['pg-pause-seconds']) * 1000;
if (!(pgPauseMs > 0)) throw new Error(`--pg-pause-seconds must be a number above 0\n${USAGE}`);

const paceMs = values['pace-ms'] === undefined ? undefined : Number(values['pace-ms']);
if (paceMs !== undefined && !(paceMs >= 0)) throw new Error(`--pace-ms must be a number of at least 0\n${USAGE}`);

const clientProcesses = Number(values['client-processes']);
if (!Number.isInteger(clientProcesses) || clientProcesses < 1) throw new Error(`--client-processes must be a whole number of at least 1\n${USAGE}`);

const firstSeed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const summary = { topology, runs: 0, operations: 0, seconds: 0, offered: 0, load: [] as number[], acknowledged: {} as Record<string, number>, faults: {} as Record<string, number>, anomalies: {} as Record<string, number>, seeds: [] as number[], unfinished: [] as number[] };
const found: Anomaly[] = [];
// Hosts and clients start from one bundle, as in the tests: through tsx a host's restart after a fault
// cost seconds of CPU, which at a load of 15 kept it from taking connections within the apps' 45 s.
const bundle = process.env[BUNDLE_ENV] ? undefined : await bundleScripts(join(process.cwd(), 'node_modules', '.cache'), 'lanchat-checker-scripts-');
if (bundle) process.env[BUNDLE_ENV] = bundle;
const postgres = topology === 'cluster' ? await clusterPostgres() : undefined;
try {
  for (let run = 0; run < Number(values.runs); run++) {
    const seed = firstSeed + run;
    console.log(`run ${run + 1}: seed ${seed}`);
    const started = postgres ? await startCluster(users, postgres.databases, pgPauseMs, faults.includes('link-cut')) : await startSingleHost(users);
    // A run the checker itself could not finish proves nothing either way: it is named, and the batch goes on.
    const result = await runWorkload(started, { seed, users, operations: Number(values.operations), faults, clientProcesses, ...(paceMs !== undefined ? { paceMs } : {}) }).catch((error: unknown) => {
      console.log(`run ${run + 1}: unfinished, the checker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      summary.unfinished.push(seed);
      return undefined;
    });
    if (!result) continue;
    summary.runs++;
    summary.operations += result.operations;
    summary.seconds += result.seconds;
    summary.offered += result.offered;
    summary.load = [Math.min(summary.load[0] ?? Infinity, ...result.load), Math.max(summary.load[1] ?? 0, ...result.load)];
    const sends = ['room', 'dm', 'group'].reduce((sum, kind) => sum + (result.acknowledged[kind] ?? 0), 0);
    const rate = (n: number): string => `${n} (${(n / result.seconds).toFixed(0)}/s)`;
    console.log(
      `run ${run + 1}: ${result.operations} operations in ${result.seconds.toFixed(1)} s (${(result.operations / result.seconds).toFixed(0)}/s); sends offered ${rate(result.offered)}, acknowledged ${rate(sends)}; load average ${result.load.map((l) => l.toFixed(1)).join(' → ')}`,
    );
    const { steady } = result;
    if (steady.seconds > 0) {
      const perSecond = (n: number): string => (n / steady.seconds).toFixed(0);
      console.log(`run ${run + 1}: before the first fault (${steady.seconds.toFixed(1)} s): sends offered ${perSecond(steady.offered)}/s, acknowledged meanwhile ${perSecond(steady.acknowledged)}/s`);
    }
    if (result.usage) console.log(`run ${run + 1}: ${describeUsage(result.usage)}`);
    for (const [kind, n] of Object.entries(result.acknowledged)) summary.acknowledged[kind] = (summary.acknowledged[kind] ?? 0) + n;
    for (const [kind, n] of Object.entries(result.faults)) summary.faults[kind] = (summary.faults[kind] ?? 0) + n;
    for (const anomaly of result.anomalies) {
      summary.anomalies[anomaly.kind] = (summary.anomalies[anomaly.kind] ?? 0) + 1;
      console.log(JSON.stringify(anomaly));
    }
    if (result.anomalies.length > 0) summary.seeds.push(seed);
    found.push(...result.anomalies);
  }
} finally {
  await postgres?.stop();
  if (bundle) rmSync(bundle, { recursive: true, force: true });
}
console.log(JSON.stringify({ ...summary, seconds: Math.round(summary.seconds) }, null, 2));
process.exitCode = found.length > 0 || summary.unfinished.length > 0 ? 1 : 0;
