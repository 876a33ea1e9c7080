import { describe, expect, it } from 'vitest';
import { charts } from './chart.js';
import type { Result } from './common.js';

const results = (entries: Result[]): Map<string, Result> => new Map(entries.map((result) => [result.workload, result]));

/** Each bar's server and width, in the order drawn. */
function barsOf(svg: string): { title: string; width: number }[] {
  return [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)"[^>]*><title>([^<]+)<\/title>/g)].map((match) => ({ title: match[2]!, width: Number(match[1]) }));
}

describe('bench charts', () => {
  it('draws each measured server as a bar as long as its figure, on one scale per chart', () => {
    const made = charts(
      results([
        { workload: 'burst', p50_ms: 6, p99_ms: 24, peak_rss_mb: 140 },
        { workload: 'baseline-burst', p50_ms: 3, p99_ms: 12, peak_rss_mb: 110 },
        { workload: 'nats-burst', p50_ms: 1.5, p99_ms: 48, peak_rss_mb: 20 },
      ]),
      'a test run',
    );
    expect(made.map((chart) => chart.file)).toEqual(['latency.svg', 'memory.svg']);
    const latency = barsOf(made[0]!.svg);
    expect(latency.map((bar) => bar.title)).toEqual([
      'burst p50, LanChat: 6.00 ms',
      'burst p50, Node floor: 3.00 ms',
      'burst p50, nats-server: 1.50 ms',
      'burst p99, LanChat: 24.0 ms',
      'burst p99, Node floor: 12.0 ms',
      'burst p99, nats-server: 48.0 ms',
    ]);
    const [hostP50, floorP50, , hostP99, , natsP99] = latency.map((bar) => bar.width);
    expect(hostP50! / floorP50!).toBeCloseTo(2, 1);
    expect(natsP99! / hostP99!).toBeCloseTo(2, 1);
    expect(made[0]!.svg).toContain('a test run');
    expect(barsOf(made[1]!.svg).map((bar) => bar.title)).toEqual([
      'burst: peak resident memory, LanChat: 140 MB',
      'burst: peak resident memory, Node floor: 110 MB',
      'burst: peak resident memory, nats-server: 20.0 MB',
    ]);
  });

  it('leaves out a server the run did not measure, and makes no chart without figures', () => {
    const [latency] = charts(results([{ workload: 'light', p50_ms: 1, p99_ms: 3 }, { workload: 'ngircd-light', skipped: 'ngircd is not installed' }]), '');
    expect(barsOf(latency!.svg).map((bar) => bar.title)).toEqual(['light p50, LanChat: 1.00 ms', 'light p99, LanChat: 3.00 ms']);
    expect(charts(results([{ workload: 'changes', deliveries_per_s: 80 }]), '')).toEqual([]);
  });

  it('draws memory per connection against the bare TLS server, and a cluster by its node count', () => {
    const made = charts(
      new Map<string, Result>([
        ['connections', { workload: 'connections', kb_per_connection: 80 }],
        ['tls-floor', { workload: 'tls-floor', kb_per_connection_after_traffic: 40 }],
        ['cluster-burst-1', { workload: 'cluster-burst', nodes: 1, cpu_s_per_100k_deliveries: 0.8 }],
        ['cluster-burst-3', { workload: 'cluster-burst', nodes: 3, cpu_s_per_100k_deliveries: 2.4 }],
      ]),
      '',
    );
    expect(made.map((chart) => chart.file)).toEqual(['connection-memory.svg', 'cluster.svg']);
    const [host, bare] = barsOf(made[0]!.svg);
    expect(host!.title).toBe('resident memory per connection, LanChat: 80.0 KB');
    expect(host!.width / bare!.width).toBeCloseTo(2, 1);
    expect(barsOf(made[1]!.svg).map((bar) => bar.title)).toEqual([
      'burst: CPU s of all nodes per 100k deliveries, 1 node: 0.800 s',
      'burst: CPU s of all nodes per 100k deliveries, 3 nodes: 2.40 s',
    ]);
  });

  it('says in the title when every client pipelined all its sends', () => {
    const [latency] = charts(results([{ workload: 'burst', p50_ms: 900, clients: 50, messages: 10_000, window: 200 }]), '');
    expect(latency!.svg).toContain('Latency from send to delivery, every client pipelining all its sends');
    const [windowed] = charts(results([{ workload: 'burst', p50_ms: 9, clients: 50, messages: 10_000, window: 1 }]), '');
    expect(windowed!.svg).not.toContain('pipelining');
  });

  it('escapes what it writes as text', () => {
    const [latency] = charts(results([{ workload: 'burst', p50_ms: 1 }]), 'load <3 & rising');
    expect(latency!.svg).toContain('load &lt;3 &amp; rising');
  });
});
