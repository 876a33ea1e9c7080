import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { measure, serverCommand, spawnServer, transport } from './common.js';
import { peerInstalled } from './peers.js';

describe('npm run bench', () => {
  it('prints one JSON object per workload with --json, then the targets it measured: the quick light room through the real host, the floor and the installed peers', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--json', '--only', 'light,baseline-light,ngircd-light,mosquitto-light,nats-light'],
      // Five servers one after another, each started, filled and stopped: a minute and more on a loaded machine.
      { timeout: 170_000 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const byWorkload = new Map(lines.filter((line) => 'workload' in line).map((line) => [line['workload'], line]));
    const light = byWorkload.get('light')!;
    expect(light).toMatchObject({ workload: 'light', clients: 10, messages: 100, lost: 0, duplicated: 0, tls: true });
    for (const field of ['p50_ms', 'p99_ms', 'peak_rss_mb', 'rss_mb', 'loop_p99_ms', 'loop_max_ms', 'heap_used_mb']) expect(light[field]).toBeGreaterThan(0);
    expect(light['cpu_s']).toBeGreaterThanOrEqual(0);
    const loopTarget = lines.find((line) => line['target'] === 'light: event-loop delay max ms ≤ 20')!;
    expect(loopTarget).toMatchObject({ value: light['loop_max_ms'], limit: 20, pass: (light['loop_max_ms'] as number) <= 20 });

    for (const peer of ['ngircd', 'mosquitto', 'nats'] as const) {
      const result = byWorkload.get(`${peer}-light`)!;
      if (peerInstalled(peer)) {
        // The same load generator got every message through the peer exactly once.
        expect(result).toMatchObject({ clients: 10, messages: 100, lost: 0, duplicated: 0 });
        expect(result['p50_ms']).toBeGreaterThan(0);
        // mosquitto and nats-server listen with TLS as the host does (their clients could not reach a plain listener); ngircd is plain.
        expect(result['tls']).toBe(peer === 'ngircd' ? undefined : true);
      } else {
        expect(result['skipped']).toMatch(/not installed/);
      }
    }
    // The light room's targets are against the floor (issue 37), on the multiple of its figure this round.
    const floorP99 = byWorkload.get('baseline-light')!['p99_ms'] as number;
    const p99Target = lines.find((line) => line['target'] === "light (TLS) p99 ≤ 1.2 × the floor's")!;
    expect(p99Target['value']).toBeCloseTo((light['p99_ms'] as number) / floorP99, 1);
  }, 180_000);
});

describe('--pin', () => {
  /** The CPUs a process may run on, as Linux lists them. */
  const cpusOf = (pid: number): string => /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;

  it.runIf(process.platform === 'linux' && availableParallelism() >= 2)('starts every room server on CPU 0 only', async () => {
    expect(serverCommand('mosquitto', ['-c', 'f'])).toEqual(['mosquitto', ['-c', 'f']]);
    measure.serverCpus = '0';
    // Plain, so the floor needs no room certificate.
    transport.tls = false;
    try {
      expect(serverCommand('mosquitto', ['-c', 'f'])).toEqual(['taskset', ['--cpu-list', '0', 'mosquitto', '-c', 'f']]);
      const server = await spawnServer('baseline-server.ts');
      try {
        expect(cpusOf(server.pid)).toBe('0');
      } finally {
        await server.stop();
      }
    } finally {
      delete measure.serverCpus;
      transport.tls = true;
    }
  });
});
