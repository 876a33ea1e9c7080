import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('npm run bench', () => {
  it('prints one JSON object per workload with --json: the quick light room, through the real host', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--json', '--only', 'light'], {
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(result).toMatchObject({ workload: 'light', clients: 10, messages: 100, lost: 0, duplicated: 0 });
    for (const field of ['p50_ms', 'p99_ms', 'peak_rss_mb']) expect(result[field]).toBeGreaterThan(0);
  }, 60_000);
});
