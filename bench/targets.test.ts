import { describe, expect, it } from 'vitest';
import type { Result } from './common.js';
import { evaluateTargets } from './targets.js';

const results = (entries: Result[]): Map<string, Result> => new Map(entries.map((result) => [result.workload, result]));

describe('bench targets', () => {
  it('judges each target against the figures of the same run, as value / limit', () => {
    const targets = evaluateTargets(
      results([
        { workload: 'baseline-burst', deliveries_per_s: 400_000, cpu_s_per_100k_deliveries: 0.1, peak_rss_mb: 80 },
        { workload: 'ngircd-burst', p99_ms: 30 },
        { workload: 'nats-burst', cpu_s_per_100k_deliveries: 0.08 },
        { workload: 'burst', p50_ms: 10, p99_ms: 90, deliveries_per_s: 380_000, cpu_s_per_100k_deliveries: 0.15, peak_rss_mb: 111, loop_max_ms: 25 },
      ]),
    );
    const byName = new Map(targets.map((target) => [target.target, target]));
    expect(byName.get('burst p50 ms ≤ 20')).toEqual({ target: 'burst p50 ms ≤ 20', value: 10, limit: 20, ratio: 0.5, pass: true });
    expect(byName.get("burst p99 ms ≤ 2 × ngircd's")).toMatchObject({ limit: 60, ratio: 1.5, pass: false });
    expect(byName.get("burst deliveries/s ≥ 0.9 × floor's")).toMatchObject({ limit: 360_000, ratio: 1.06, pass: true });
    expect(byName.get("burst CPU s per 100k deliveries ≤ 1.5 × floor's")).toMatchObject({ limit: 0.15, pass: true });
    expect(byName.get("burst CPU s per 100k deliveries ≤ 1.5 × nats-server's")).toMatchObject({ limit: 0.12, ratio: 1.25, pass: false });
    expect(byName.get("burst peak RSS MB (50 clients) ≤ floor's + 30")).toMatchObject({ limit: 110, pass: false });
    expect(byName.get('burst: event-loop delay max ms ≤ 20')).toMatchObject({ value: 25, pass: false });
  });

  it('leaves out a target whose figures the run did not measure', () => {
    const targets = evaluateTargets(results([{ workload: 'light', p50_ms: 1, p99_ms: 4, loop_max_ms: 3 }]));
    expect(targets.map((target) => target.target)).toEqual(['light: event-loop delay max ms ≤ 20']);
  });

  it('projects a smaller connections run to 10,000 connections from its memory per connection', () => {
    const [target] = evaluateTargets(results([{ workload: 'connections', clients: 1000, rss_idle_mb: 100, kb_per_connection: 20.48, tls: true }]));
    expect(target).toMatchObject({ target: '10,000 TLS connections: RSS MB ≤ 300 (projected from 1000)', value: 300, pass: true });
  });
});
