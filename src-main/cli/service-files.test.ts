/** The files an operator installs from deploy/: the example config parses, the systemd unit passes systemd-analyze. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHostArgs } from './host-args.js';

const analyzer = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).stdout.trim();

describe('deploy/', () => {
  it('holds an example config file every key of which the host takes', () => {
    const parsed = parseHostArgs(['--config', 'deploy/lanchat.yaml'], { LANCHAT_POSTGRES: 'postgres://lanchat@db/lanchat' });
    if (parsed.help) throw new Error('expected settings');
    expect(parsed.options).toMatchObject({ dataDir: '/var/lib/lanchat', port: 7171, cluster: { nats: ['nats://nats.lan:4222'], busSecurity: { caFile: '/etc/lanchat/bus-ca.pem', user: 'lanchat' } } });
    expect(parsed.service).toEqual({ adminPort: 9171, adminBind: '0.0.0.0', drainMs: 10_000, adminToken: null });
    expect(parsed.options.logRotation).toEqual({ maxBytes: 10 * 1024 * 1024, keep: 5 });
  });

  it.skipIf(!analyzer)('holds a systemd unit that systemd-analyze verifies without a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanchat-unit-'));
    try {
      // Node where this machine has it: the unit names Debian's /usr/bin/node, which verify checks exists.
      const unit = join(dir, 'lanchat-host.service');
      writeFileSync(unit, readFileSync('deploy/lanchat-host.service', 'utf8').replace('/usr/bin/node ', `${process.execPath} `));
      const verified = spawnSync(analyzer, ['verify', '--man=no', unit], { encoding: 'utf8' });
      expect(verified.stderr + verified.stdout).toBe('');
      expect(verified.status).toBe(0);
      // The check fails on a misspelt option (verify itself only warns).
      writeFileSync(unit, readFileSync(unit, 'utf8').replace('ProtectSystem=strict', 'ProtectSystem=stricter'));
      expect(spawnSync(analyzer, ['verify', '--man=no', unit], { encoding: 'utf8' }).stderr).toContain('stricter');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
