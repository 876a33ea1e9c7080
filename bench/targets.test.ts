import { describe, expect, it } from 'vitest';
import type { Result } from './common.js';
import { evaluateTargets } from './targets.js';

const results = (entries: Result[]): Map<string, Result> =>
  new Map(entries.map((result) => [result['nodes'] === undefined ? result.workload : `${result.workload}-${result['nodes']}`, result]));
const judged = (entries: Result[]) => new Map(evaluateTargets(results(entries)).map((target) => [target.target, target]));

describe('bench targets', () => {
  it('judges the window-1 burst against ngircd and nats-server, on the round-by-round multiple when there is one', () => {
    const byName = judged([
      { workload: 'baseline-burst', peak_rss_mb: 80 },
      { workload: 'ngircd-burst', p50_ms: 5, p99_ms: 30 },
      { workload: 'nats-burst', cpu_s_per_100k_deliveries: 0.08 },
      {
        workload: 'burst',
        clients: 50,
        messages: 10_000,
        window: 1,
        p50_ms: 6,
        p99_ms: 24,
        p50_ms_vs_ngircd: 1.4,
        cpu_s_per_100k_deliveries: 0.15,
        peak_rss_mb: 111,
        loop_max_ms: 25,
        lost: 0,
        missing_in_database: 0,
      },
    ]);
    expect(byName.get("burst (window 1) p50 ≤ 1.0 × ngircd's")).toEqual({ target: "burst (window 1) p50 ≤ 1.0 × ngircd's", value: 1.4, limit: 1, ratio: 1.4, pass: false });
    expect(byName.get("burst (window 1) p99 ≤ 1.0 × ngircd's")).toMatchObject({ value: 0.8, pass: true });
    expect(byName.get("burst (window 1) CPU per delivery ≤ 1.5 × nats-server's")).toMatchObject({ value: 1.875, ratio: 1.25, pass: false });
    expect(byName.get('burst (window 1): messages lost or not in the database = 0')).toMatchObject({ value: 0, pass: true });
    expect(byName.get("burst (window 1) peak RSS MB ≤ floor's + 30")).toMatchObject({ limit: 110, pass: false });
    expect(byName.get('burst: event-loop delay max ms ≤ 20')).toMatchObject({ value: 25, pass: false });
    expect([...byName.keys()].some((name) => name.includes('deliveries/s'))).toBe(false);
  });

  it('judges the all-pipelined burst against the floor, and fails it for a message missing from the database', () => {
    const byName = judged([
      { workload: 'baseline-burst', p50_ms: 10, p99_ms: 60, deliveries_per_s: 400_000 },
      { workload: 'burst', clients: 50, messages: 10_000, window: 200, p50_ms: 15, p99_ms: 150, deliveries_per_s: 380_000, lost: 0, missing_in_database: 1 },
    ]);
    expect(byName.get("burst (all pipelined) p50 ≤ 2.0 × the floor's")).toMatchObject({ value: 1.5, pass: true });
    expect(byName.get("burst (all pipelined) p99 ≤ 2.0 × the floor's")).toMatchObject({ value: 2.5, pass: false });
    expect(byName.get("burst (all pipelined) deliveries/s ≥ 0.9 × the floor's")).toMatchObject({ value: 0.95, pass: true });
    expect(byName.get('burst (all pipelined): messages lost or not in the database = 0')).toMatchObject({ value: 1, pass: false });
  });

  it('judges memory per connection, ingest and the cluster against their floors in the same run', () => {
    const byName = judged([
      { workload: 'connections', kb_per_connection: 52, tls: true },
      { workload: 'tls-floor', kb_per_connection_after_traffic: 40 },
      { workload: 'history', ingest_per_s: 90_000 },
      { workload: 'ingest-floor', ingest_per_s: 100_000 },
      { workload: 'cluster-burst', nodes: 1, cpu_s_per_100k_deliveries: 1 },
      { workload: 'cluster-burst', nodes: 3, cpu_s_per_100k_deliveries: 2 },
      { workload: 'cluster-connections', nodes: 1, p99_ms: 4 },
      { workload: 'cluster-connections', nodes: 3, p99_ms: 5 },
    ]);
    expect(byName.get("memory per logged-in TLS connection ≤ 1.3 × a bare TLS server's")).toMatchObject({ value: 1.3, pass: true });
    expect(byName.get('history ingest messages/s ≥ 100,000')).toMatchObject({ pass: false });
    expect(byName.get('history ingest ≥ 0.8 × a bare better-sqlite3 insert loop')).toMatchObject({ value: 0.9, pass: true });
    expect(byName.get("cluster: CPU per delivery, 3 nodes ≤ 1.4 × one node's")).toMatchObject({ value: 2, pass: false });
    expect(byName.get("cluster: send-to-delivery p99 across 3 nodes ≤ 1.5 × one node's")).toMatchObject({ value: 1.25, pass: true });
  });

  it("judges a cluster with rounds on its round-by-round multiple of one node's figures", () => {
    const byName = judged([
      { workload: 'cluster-burst', nodes: 1, cpu_s_per_100k_deliveries: 1 },
      { workload: 'cluster-burst', nodes: 3, cpu_s_per_100k_deliveries: 2, cpu_s_per_100k_deliveries_vs_one_node: 1.3 },
      { workload: 'cluster-connections', nodes: 1, p99_ms: 4 },
      { workload: 'cluster-connections', nodes: 3, p99_ms: 5, p99_ms_vs_one_node: 1.6 },
    ]);
    expect(byName.get("cluster: CPU per delivery, 3 nodes ≤ 1.4 × one node's")).toMatchObject({ value: 1.3, pass: true });
    expect(byName.get("cluster: send-to-delivery p99 across 3 nodes ≤ 1.5 × one node's")).toMatchObject({ value: 1.6, pass: false });
  });

  it('leaves out a target whose figures the run did not measure, and names the transport of the light room', () => {
    expect([...judged([{ workload: 'light', p50_ms: 1, p99_ms: 4, loop_max_ms: 3, tls: false }]).keys()]).toEqual(['light: event-loop delay max ms ≤ 20']);
    expect([...judged([{ workload: 'light', p50_ms: 1, p99_ms: 4, tls: false }, { workload: 'baseline-light', p50_ms: 1, p99_ms: 2 }]).keys()]).toEqual([
      "light (plain) p50 ≤ 1.2 × the floor's",
      "light (plain) p99 ≤ 1.2 × the floor's",
    ]);
  });
});
