/**
 * `npm run bench [-- --quick] [-- --json] [-- --only a,b] [-- --cluster] [-- --plain] [-- --rounds N]
 * [-- --window N|all] [-- --threads N] [-- --tsx] [-- --cpu-profile DIR] [-- --heap-snapshot DIR] [-- --host-flags="--node-flag ..."]
 * [-- --pin] [-- --chart DIR]`: runs each workload
 * against a server in its own process and prints one result per workload (JSON lines with --json),
 * then each target (bench/targets.ts) that the run measured, with pass or miss.
 * The room workloads run `--rounds` times (3, or 1 with --quick) interleaved across the servers
 * (baseline, ngircd, mosquitto, nats-server, host), so a slow moment of the machine does not fall on
 * one server only; each figure printed is the median over the rounds (the worst for loss and peaks),
 * its range beside it (`_range`), and the host's ratios to each peer are taken round by round (the
 * peer run just before it) before their median: on a shared machine those are the steady figures.
 * Each room result carries the machine's 1-minute load average (`load_1m`) as it ended.
 * --cluster runs only bench/cluster.ts: burst and connections on 1, 2 and 3 clustered nodes, `--rounds` times
 * interleaved in the same way, each node count's figures the median of its rounds and its multiples of one
 * node's (`_vs_one_node`) taken round by round.
 * --pin runs the room servers on CPU 0 and the load generator on the others (common.ts, pinServersApart);
 * its results say `pinned`, and it judges no target.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RoomServer, burst, light } from './chat.js';
import { callsBench } from './calls.js';
import { type Result, measure, pinServersApart, transport } from './common.js';
import { changes } from './changes.js';
import { charts } from './chart.js';
import { clusterBench, clusterBenchMissing } from './cluster.js';
import { connections } from './connections.js';
import { e2ee } from './e2ee.js';
import { deviceSearch } from './device-search.js';
import { files } from './files.js';
import { firstSearch } from './first-search.js';
import { inOwnProcess } from './own-process.js';
import { PACKAGES, type Peer, peerInstalled } from './peers.js';
import { reconnect } from './reconnect.js';
import { evaluateTargets } from './targets.js';
import { tlsCost } from './tls-cost.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    plain: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    window: { type: 'string' },
    'host-flags': { type: 'string' },
    'cpu-profile': { type: 'string' },
    tsx: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'string' },
    cluster: { type: 'boolean', default: false },
    threads: { type: 'string' },
    pin: { type: 'boolean', default: false },
    chart: { type: 'string' },
  },
});
transport.tls = !values.plain;
if (values['host-flags']) measure.hostNodeFlags.push(...values['host-flags'].split(' ').filter(Boolean));
measure.profileDir = values['cpu-profile'];
measure.tsx = values.tsx;
if (values.pin) pinServersApart();
const quick = values.quick;
// --cluster: none of the single-host workloads.
const only = values.cluster ? [] : values.only?.split(',');
const rounds = Number(values.rounds ?? (quick ? 1 : 3));
const selected = (name: string): boolean => !only || only.includes(name);

const ROOM_SERVERS: RoomServer[] = ['baseline', 'ngircd', 'mosquitto', 'nats', 'host'];
const isPeer = (server: RoomServer): server is Peer => server === 'ngircd' || server === 'mosquitto' || server === 'nats';
const roomWorkload = (server: RoomServer, kind: string): string => (server === 'host' ? kind : `${server}-${kind}`);
const room = {
  light: { run: light, clients: quick ? 10 : 20, messagesEach: quick ? 10 : 20 },
  burst: { run: burst, clients: quick ? 20 : 50, messagesEach: quick ? 50 : 200, window: values.window === 'all' ? Infinity : Number(values.window ?? 1) },
};

/** Fields where the worst round is the honest figure, not the median one. */
const WORST_OF = new Set(['lost', 'duplicated', 'missing_in_database', 'loop_max_ms', 'peak_rss_mb']);
/** Figures printed with their range over the rounds. */
const SPREAD = ['p50_ms', 'p99_ms', 'deliveries_per_s', 'cpu_s', 'cpu_s_per_100k_deliveries', 'load_1m'];
/** The host's figures also as multiples of each peer's in the same round: the floor's all of these, the others' the first four. */
const RATIOS = ['p50_ms', 'p99_ms', 'deliveries_per_s', 'cpu_s_per_100k_deliveries', 'peak_rss_mb'];
/** A cluster's figures also as multiples of one node's in the same round (the targets' two). */
const CLUSTER_RATIOS = ['cpu_s_per_100k_deliveries', 'p99_ms'];

const results = new Map<string, Result>();
const print = (line: Record<string, unknown>): void => console.log(values.json ? JSON.stringify(line) : format(line));
// Other work on the machine moves every absolute figure; the ratios within a round move much less.
const printLoad = (when: string): void => print({ workload: 'load', when, load_avg: loadavg().map((load) => load.toFixed(2)).join(' ') });
printLoad('start');

for (const [kind, options] of Object.entries(room)) {
  const servers = ROOM_SERVERS.filter((server) => selected(roomWorkload(server, kind)));
  const installed = servers.filter((server) => !isPeer(server) || peerInstalled(server));
  for (const server of servers.filter((server) => !installed.includes(server))) {
    print({ workload: roomWorkload(server, kind), skipped: `${server} is not installed (apt-get install -y ${PACKAGES[server as Peer]})` });
  }
  const runs = new Map<RoomServer, Result[]>(installed.map((server) => [server, []]));
  for (let round = 0; round < rounds; round++) {
    for (const server of installed) {
      const result = await options.run({ ...options, server });
      result['load_1m'] = Math.round(loadavg()[0]! * 10) / 10;
      runs.get(server)!.push(result);
    }
  }
  const host = runs.get('host');
  for (const [server, each] of runs) {
    const combined = combine(each);
    if (server === 'host' && host) {
      for (const [peer, theirs] of runs) if (peer !== 'host') addRatios(combined, host, theirs, peer === 'baseline' ? RATIOS : RATIOS.slice(0, 4), peer);
    }
    report(roomWorkload(server, kind), combined);
  }
}
if (selected('connections')) {
  report('connections', await connections({ clients: quick ? 1000 : 10_000, holdSeconds: quick ? 5 : 60, chatters: 5, heapSnapshotDir: values['heap-snapshot'] }));
}
// The floor of memory per connection: a bare TLS server (the host's own gate) holding as many, after a hello and
// login from each and as many bytes written to each as the host wrote to a client in `connections` (presence, answers).
if (selected('tls-floor') && transport.tls) {
  const received = results.get('connections')?.['kb_received_per_client'];
  const tls = await tlsCost('tls', quick ? 1000 : 10_000, 'presence', [], typeof received === 'number' ? Math.max(1, Math.round(received)) : 100);
  report('tls-floor', { workload: 'tls-floor', ...tls });
}
if (selected('changes')) report('changes', await changes({ clients: quick ? 20 : 50, reactionsEach: quick ? 10 : 40 }));
if (selected('reconnect')) report('reconnect', await reconnect({ clients: quick ? 200 : 1000, senders: 5, ...(values.threads ? { threads: Number(values.threads) } : {}) }));
// What the reconnect storm's handshakes alone cost on this machine: a bare TLS server (the host's gate) taking as many clients at once.
if (selected('reconnect-floor') && transport.tls) {
  const clients = quick ? 200 : 1000;
  report('reconnect-floor', { workload: 'reconnect-floor', ...(await tlsCost('tls', clients, undefined, [], undefined, clients)) });
}
const historyOptions = { messages: quick ? 100_000 : 1_000_000, users: 200, dms: 1000, groups: 50, queries: quick ? 20 : 50 };
if (selected('history')) report('history', await inOwnProcess('history', historyOptions));
if (selected('ingest-floor')) report('ingest-floor', await inOwnProcess('ingest-floor', historyOptions));
if (selected('e2ee')) {
  // A step that stalls (it did once at load 30, issue 35) is reported as such; the other rows still run.
  try {
    report('e2ee', await e2ee({ messages: quick ? 20 : 100, members: quick ? 20 : 200 }));
  } catch (error) {
    print({ workload: 'e2ee', error: error instanceof Error ? error.message : String(error) });
  }
}
if (selected('device-search')) report('device-search', await deviceSearch({ messages: quick ? 20_000 : 100_000, repeats: quick ? 3 : 7 }));
if (selected('first-search')) report('first-search', await firstSearch({ typedAfterMs: 3000, later: quick ? 5 : 20 }));
if (selected('calls')) report('calls', await callsBench({ accepts: quick ? 3 : 10, cpuSeconds: quick ? 10 : 30 }));
if (selected('files')) {
  const result = await files({ megabytes: quick ? 50 : 200, rounds });
  const light = results.get('light')?.['p99_ms'];
  if (typeof light === 'number') result['light_p99_ms'] = light;
  report('files', result);
}
if (values.cluster) {
  if (clusterBenchMissing) print({ workload: 'cluster', skipped: clusterBenchMissing });
  else {
    const runs = new Map<string, Result[]>();
    await clusterBench(
      {
        nodeCounts: [1, 2, 3],
        rounds,
        burst: { clients: quick ? 20 : 50, messagesEach: quick ? 50 : 200 },
        connections: { clients: quick ? 500 : 3000, holdSeconds: quick ? 5 : 20, chatters: 5 },
      },
      (result) => {
        const name = `${result['workload']}-${result['nodes']}`;
        runs.set(name, [...(runs.get(name) ?? []), result]);
      },
    );
    // Several nodes against one, round by round (the one-node run just before them), as the room's ratios are taken.
    for (const [name, each] of runs) {
      const combined = combine(each);
      const one = runs.get(`${combined['workload']}-1`);
      if (combined['nodes'] !== 1 && one) addRatios(combined, each, one, CLUSTER_RATIOS, 'one_node');
      report(name, combined);
    }
  }
}
printLoad('end');
if (values.chart) {
  mkdirSync(values.chart, { recursive: true });
  const measured = `median of ${rounds} round${rounds === 1 ? '' : 's'}`;
  const about = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load ${loadavg()[0]!.toFixed(1)}, ${transport.tls ? 'TLS' : 'plain TCP'}, ${measured}`;
  for (const chart of charts(results, about)) {
    writeFileSync(join(values.chart, chart.file), chart.svg);
    print({ workload: 'chart', file: join(values.chart, chart.file) });
  }
}
// The targets are stated for servers sharing the machine with their load, as they would in a room.
if (values.pin) print({ workload: 'targets', skipped: 'not judged: a pinned run (--pin) is for comparing; the targets are for unpinned runs' });
else for (const target of evaluateTargets(results)) print(target);

function report(name: string, result: Result): void {
  if (!name.startsWith('ngircd')) result['tls'] = transport.tls;
  if (values.pin) result['pinned'] = true;
  results.set(name, result);
  print(result);
}

/** One result from the rounds of a workload: the median of each figure, the worst of WORST_OF, the range of SPREAD. */
function combine(each: Result[]): Result {
  if (each.length === 1) return each[0]!;
  const combined: Result = { ...each[0]! };
  for (const [field, first] of Object.entries(each[0]!)) {
    if (typeof first !== 'number') continue;
    const all = each.map((result) => result[field] as number).sort((a, b) => a - b);
    combined[field] = WORST_OF.has(field) ? all[all.length - 1]! : median(all);
    if (SPREAD.includes(field)) combined[`${field}_range`] = range(all);
  }
  combined['rounds'] = each.length;
  return combined;
}

/** The host's figures as multiples of a peer's, round by round: their median, and their range when there are rounds. */
function addRatios(result: Result, host: Result[], peer: Result[], fields: string[], name: string): void {
  for (const field of fields) {
    const ratios = host.flatMap((ours, round) => {
      const value = ours[field];
      const base = peer[round]?.[field];
      return typeof value === 'number' && typeof base === 'number' && base > 0 ? [Math.round((value / base) * 100) / 100] : [];
    });
    if (ratios.length === 0) continue;
    ratios.sort((a, b) => a - b);
    result[`${field}_vs_${name}`] = median(ratios);
    if (ratios.length > 1) result[`${field}_vs_${name}_range`] = range(ratios);
  }
}

function median(sorted: number[]): number {
  return sorted[Math.floor(sorted.length / 2)]!;
}

function range(sorted: number[]): string {
  return `${sorted[0]}–${sorted[sorted.length - 1]}`;
}

function format(line: Record<string, unknown>): string {
  if ('target' in line) return `${line['pass'] ? 'pass' : 'MISS'}  ${line['target']}: ${line['value']} (limit ${line['limit']}, ratio ${line['ratio']})`;
  const { workload, ...fields } = line;
  return `${String(workload).padEnd(16)} ${Object.entries(fields)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}`;
}
