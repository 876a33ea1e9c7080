/**
 * The performance targets (issue 37's table, and those of issue 15 it kept), each judged against
 * figures measured in the same run: a target whose inputs were not measured (a workload not selected,
 * a peer not installed) is left out. `ratio` is value / limit: at most 1 passes an upper bound, at
 * least 1 a lower bound. A target against a room peer is judged on the host's multiple of the peer's
 * figure taken round by round (run.ts, addRatios) when the run has rounds, the steadier figure on a
 * shared machine; its value is then that multiple and its limit the factor.
 */
import type { Result } from './common.js';

export type Target = {
  target: string;
  value: number;
  limit: number;
  ratio: number;
  pass: boolean;
};

/** Host workloads whose event-loop delay must stay under LOOP_MAX_MS. */
const HOST_WORKLOADS = ['light', 'burst', 'connections', 'changes', 'reconnect', 'history'];
const LOOP_MAX_MS = 20;
const SEARCH_P95_MS = 50;
/** The room peers by the name their ratios carry (run.ts: `${field}_vs_${peer}`), and as a reader knows them. */
const PEERS = { baseline: "the floor's", ngircd: "ngircd's", nats: "nats-server's" } as const;
type PeerName = keyof typeof PEERS;

export function evaluateTargets(results: ReadonlyMap<string, Result>): Target[] {
  const targets: Target[] = [];
  const figure = (workload: string, field: string): number | undefined => {
    const value = results.get(workload)?.[field];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  };
  /** A multiple of a figure the run did not measure is undefined: its target is left out. */
  const atMost = (target: string, value: number | undefined, limit: number | undefined): void => {
    if (value !== undefined && limit !== undefined) targets.push(judge(target, value, limit, value <= limit));
  };
  const atLeast = (target: string, value: number | undefined, limit: number | undefined): void => {
    if (value !== undefined && limit !== undefined) targets.push(judge(target, value, limit, value >= limit));
  };
  const over = (value: number | undefined, base: number | undefined): number | undefined =>
    value === undefined || base === undefined || base <= 0 ? undefined : value / base;
  /** The host's `field` in `kind` against `peer`'s, as a multiple: `bound` it by `factor`. */
  const versus = (label: string, kind: string, field: string, peer: PeerName, factor: number, bound: 'at most' | 'at least'): void => {
    const multiple = figure(kind, `${field}_vs_${peer}`) ?? over(figure(kind, field), figure(`${peer}-${kind}`, field));
    const target = `${label} ${bound === 'at most' ? '≤' : '≥'} ${factor.toFixed(1)} × ${PEERS[peer]}`;
    (bound === 'at most' ? atMost : atLeast)(target, multiple, factor);
  };
  const tls = (workload: string): string => (results.get(workload)?.['tls'] === false ? 'plain' : 'TLS');

  const window = figure('burst', 'window');
  const messagesEach = over(figure('burst', 'messages'), figure('burst', 'clients'));
  if (window !== undefined && messagesEach !== undefined) {
    const pipelined = window >= messagesEach;
    const name = pipelined ? 'burst (all pipelined)' : `burst (window ${window})`;
    if (pipelined) {
      versus(`${name} p50`, 'burst', 'p50_ms', 'baseline', 2, 'at most');
      versus(`${name} p99`, 'burst', 'p99_ms', 'baseline', 2, 'at most');
      versus(`${name} deliveries/s`, 'burst', 'deliveries_per_s', 'baseline', 0.9, 'at least');
    } else {
      versus(`${name} p50`, 'burst', 'p50_ms', 'ngircd', 1, 'at most');
      versus(`${name} p99`, 'burst', 'p99_ms', 'ngircd', 1, 'at most');
    }
    versus(`${name} CPU per delivery`, 'burst', 'cpu_s_per_100k_deliveries', 'nats', 1.5, 'at most');
    atMost(`${name}: messages lost or not in the database = 0`, (figure('burst', 'lost') ?? 0) + (figure('burst', 'missing_in_database') ?? 0), 0);
    const floorRss = figure('baseline-burst', 'peak_rss_mb');
    atMost(`${name} peak RSS MB ≤ floor's + 30`, figure('burst', 'peak_rss_mb'), floorRss === undefined ? undefined : floorRss + 30);
  }
  versus(`light (${tls('light')}) p50`, 'light', 'p50_ms', 'baseline', 1.2, 'at most');
  versus(`light (${tls('light')}) p99`, 'light', 'p99_ms', 'baseline', 1.2, 'at most');

  if (results.get('connections')?.['tls'] !== false) {
    atMost(
      "memory per logged-in TLS connection ≤ 1.3 × a bare TLS server's",
      over(figure('connections', 'kb_per_connection'), figure('tls-floor', 'kb_per_connection_after_traffic')),
      1.3,
    );
  }
  for (const workload of HOST_WORKLOADS) atMost(`${workload}: event-loop delay max ms ≤ ${LOOP_MAX_MS}`, figure(workload, 'loop_max_ms'), LOOP_MAX_MS);
  for (const [field, needle] of [
    ['one_letter_ms', 'one letter, present'],
    ['one_letter_absent_ms', 'one letter, absent'],
    ['two_letter_ms', 'two letters, present'],
    ['two_letter_absent_ms', 'two letters, absent'],
  ] as const) {
    atMost(`history search p95 ms ≤ ${SEARCH_P95_MS}: ${needle}`, figure('history', field), SEARCH_P95_MS);
  }
  atLeast('history ingest messages/s ≥ 100,000', figure('history', 'ingest_per_s'), 100_000);
  atLeast(
    'history ingest ≥ 0.8 × a bare better-sqlite3 insert loop',
    over(figure('history', 'ingest_per_s'), figure('ingest-floor', 'ingest_per_s')),
    0.8,
  );
  const reconnecting = figure('reconnect', 'clients');
  atMost(`reconnect: ${reconnecting ?? ''} clients online and caught up, s ≤ 3`, figure('reconnect', 'recovered_s'), 3);

  const nodes = Math.max(0, ...[...results.values()].filter((result) => result.workload === 'cluster-burst').map((result) => Number(result['nodes'])));
  if (nodes > 1) {
    /** The multiple taken round by round when the run had rounds (run.ts), else of the two figures. */
    const againstOne = (workload: string, field: string): number | undefined =>
      figure(`${workload}-${nodes}`, `${field}_vs_one_node`) ?? over(figure(`${workload}-${nodes}`, field), figure(`${workload}-1`, field));
    atMost(`cluster: CPU per delivery, ${nodes} nodes ≤ 1.4 × one node's`, againstOne('cluster-burst', 'cpu_s_per_100k_deliveries'), 1.4);
    atMost(`cluster: send-to-delivery p99 across ${nodes} nodes ≤ 1.5 × one node's`, againstOne('cluster-connections', 'p99_ms'), 1.5);
  }
  return targets;
}

function judge(target: string, value: number, limit: number, pass: boolean): Target {
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return { target, value: round(value), limit: round(limit), ratio: limit === 0 ? (value === 0 ? 0 : Infinity) : Math.round((value / limit) * 100) / 100, pass };
}
