/** The headless host's command line, parsed in-process. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostReadyLines, parseHostArgs } from './host-args.js';
import { printSettings } from './host-config.js';

const options = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const parsed = parseHostArgs(['--data', 'room-data', ...args], env);
  if (parsed.help) throw new Error('expected options');
  return parsed.options;
};

describe('host arguments', () => {
  it('fills the defaults and resolves the data folder', () => {
    expect(options([])).toMatchObject({
      dataDir: resolve('room-data'),
      port: 7171,
      bind: '0.0.0.0',
      roomName: 'Room',
      heartbeatTimeoutMs: 20_000,
      tls: true,
      rateLimits: {},
      limits: {},
      throttle: {},
    });
    expect(parseHostArgs(['--help'])).toEqual({ help: true });
  });

  it('takes access, limits, login throttling and rate flags ("off" is no limit)', () => {
    expect(
      options([
        '--access', 'approval', '--max-name', '8', '--max-pending', '3', '--login-free-failures', '2', '--login-delay', '1.5',
        '--frames-per-second', '5', '--frame-burst', '3', '--bytes-per-second', 'off', '--max-frame-bytes', '4096', '--no-tls',
      ]),
    ).toMatchObject({
      access: { mode: 'approval' },
      limits: { maxNameLength: 8, maxPendingAccounts: 3 },
      throttle: { freeFailures: 2, baseDelayMs: 1500 },
      rateLimits: { framesPerSecond: 5, frameBurst: 3, bytesPerSecond: Infinity },
      maxFrameBytes: 4096,
      tls: false,
    });
    expect(options(['--max-database-bytes', '1048576']).maxDatabaseBytes).toBe(1_048_576);
    expect(
      options([
        ...['--max-file-bytes', '1048576', '--max-file-storage-bytes', '8388608', '--max-file-bytes-per-day', '2097152', '--max-transfers', '4'],
        ...['--max-unfinished-uploads', '5', '--max-unfinished-bytes', '4194304'],
      ]).files,
    ).toEqual({
      limits: {
        maxFileBytes: 1_048_576,
        maxFileStorageBytes: 8_388_608,
        maxFileBytesPerDay: 2_097_152,
        maxTransfersPerUser: 4,
        maxUnfinishedUploadsPerUser: 5,
        maxUnfinishedBytesPerUser: 4_194_304,
      },
    });
    expect(options([]).files).toEqual({ limits: {} });
    expect(
      options(['--registrations-per-minute', '10', '--address-registrations-per-minute', '2', '--logins-per-minute', '6', '--changes-per-minute', '30']).limits,
    ).toEqual({
      registrationsPerMinute: 10,
      addressRegistrationsPerMinute: 2,
      loginsPerMinute: 6,
      changesPerMinute: 30,
    });
    expect(options([]).maxDatabaseBytes).toBeUndefined();
    expect(options(['--access', 'passphrase'], { LANCHAT_PASSPHRASE: 'sesame' }).access).toEqual({ mode: 'passphrase', passphrase: 'sesame' });
  });

  it('takes a cluster node\'s database, NATS servers and shared files folder; the embedded room by default', () => {
    const url = 'postgres://chat:pw@db.example:5432/room';
    expect(options(['--postgres', url, '--nats', 'nats://a:4222, nats://b:4222', '--files-dir', 'shared'])).toMatchObject({
      cluster: { postgres: url, nats: ['nats://a:4222', 'nats://b:4222'] },
      filesDir: resolve('shared'),
    });
    expect(options([], { LANCHAT_POSTGRES_URL: url }).cluster).toEqual({ postgres: url });
    expect(options([])).not.toHaveProperty('cluster');
    expect(options([])).not.toHaveProperty('filesDir');
  });

  it("keeps a cluster node's files in its database unless given a shared folder; the embedded room's in its own folder", () => {
    const cluster = ['--postgres', 'postgres://x/y'];
    expect(options(cluster).filesStore).toBe('postgres');
    expect(options([...cluster, '--files-store', 'postgres']).filesStore).toBe('postgres');
    expect(options([...cluster, '--files-dir', 'shared'])).not.toHaveProperty('filesStore');
    expect(options([...cluster, '--files-store', 'folder', '--files-dir', 'shared'])).toMatchObject({ filesDir: resolve('shared') });
    expect(options([], { LANCHAT_FILES_STORE: 'folder' })).not.toHaveProperty('filesStore');
    expect(options([])).not.toHaveProperty('filesStore');
  });

  it("takes the bus's certificate authority, user and password (from the environment too), or the insecure flag", () => {
    const cluster = ['--postgres', 'postgres://x/y', '--nats', 'nats://a:4222'];
    expect(options([...cluster, '--nats-ca', 'bus-ca.pem', '--nats-user', 'lanchat'], { LANCHAT_NATS_PASSWORD: 'pw' }).cluster).toEqual({
      postgres: 'postgres://x/y',
      nats: ['nats://a:4222'],
      busSecurity: { caFile: resolve('bus-ca.pem'), user: 'lanchat', password: 'pw' },
    });
    expect(options([...cluster, '--nats-user', 'lanchat', '--nats-password', 'flag'], { LANCHAT_NATS_PASSWORD: 'env' }).cluster?.busSecurity?.password).toBe('flag');
    expect(options([...cluster, '--insecure-bus']).cluster).toEqual({ postgres: 'postgres://x/y', nats: ['nats://a:4222'], insecureBus: true });
    for (const flag of [['--nats-ca', 'ca.pem'], ['--nats-user', 'u'], ['--insecure-bus']]) {
      expect(() => parseHostArgs(['--data', 'x', '--postgres', 'postgres://x/y', ...flag])).toThrow(`${flag[0]} needs --nats`);
    }
  });

  it("reads the bus's settings from the config file and its password from a file, masked when printed", () => {
    const files: Record<string, string> = {
      '/etc/lanchat/lanchat.yaml': 'data: x\npostgres: postgres://x/y\nnats: [nats://a:4222]\nnats-ca: /etc/lanchat/bus-ca.pem\nnats-user: lanchat\n',
      '/run/nats-password': 'bus-secret\n',
    };
    const line = parseHostArgs(['--config', '/etc/lanchat/lanchat.yaml'], { LANCHAT_NATS_PASSWORD_FILE: '/run/nats-password' }, (path) => files[path]!);
    if (line.help) throw new Error('not the usage');
    expect(line.options.cluster?.busSecurity).toEqual({ caFile: '/etc/lanchat/bus-ca.pem', user: 'lanchat', password: 'bus-secret' });
    expect(printSettings(line.settings)).not.toContain('bus-secret');
  });

  it('refuses bad arguments with the reason and the usage', () => {
    const refusals: [string[], string][] = [
      [['--port', '99999'], '--port must be 0 to 65535'],
      [['--access', 'passphrase'], '--access passphrase needs --passphrase'],
      [['--access', 'secret'], '--access must be one of open, passphrase, approval'],
      [['--frames-per-second', '0'], '--frames-per-second must be a number above 0 or "off", not "0"'],
      [['--max-frame-bytes', '1.5'], '--max-frame-bytes must be a whole number of bytes'],
      [['--max-groups', '0'], '--max-groups must be a whole number of at least 1'],
      [['--max-database-bytes', '1e3.5'], '--max-database-bytes must be a whole number of bytes'],
      [['--max-database-bytes', '0'], '--max-database-bytes must be a whole number of bytes'],
      [['--max-file-bytes', '10MB'], '--max-file-bytes must be a whole number of bytes above 0'],
      [['--max-transfers', '0'], '--max-transfers must be a whole number of at least 1'],
      [['--heartbeat', '0'], '--heartbeat must be a number of seconds above 0'],
      [['--nats', 'nats://a:4222'], '--nats needs --postgres'],
      [['--postgres', 'postgres://x/y', '--nats', ' , '], '--nats needs at least one URL'],
      [['--postgres', 'postgres://x/y', '--max-database-bytes', '1000'], '--max-database-bytes caps the SQLite file'],
      [['--files-store', 's3'], '--files-store must be one of folder, postgres'],
      [['--files-store', 'postgres'], '--files-store postgres keeps files in the room\'s PostgreSQL database: it needs --postgres'],
      [['--postgres', 'postgres://x/y', '--files-store', 'postgres', '--files-dir', 'shared'], '--files-dir names a folder, but --files-store postgres'],
      [['--postgres', 'postgres://x/y', '--files-store', 'folder'], '--files-store folder on a node of a cluster needs --files-dir'],
    ];
    for (const [args, reason] of refusals) {
      expect(() => parseHostArgs(['--data', 'x', ...args]), args.join(' ')).toThrow(reason);
      expect(() => parseHostArgs(['--data', 'x', ...args])).toThrow(/usage: lanchat-host/);
    }
    expect(() => parseHostArgs([])).toThrow('--data <dir> is required');
    expect(() => parseHostArgs(['--data', 'x', '--frobnicate'])).toThrow(/frobnicate/);
  });

  it('prints the address, log, fingerprint or the clear-text warning when ready', () => {
    const address = { address: '::1', port: 7000, family: 'IPv6' };
    expect(hostReadyLines({ address, logFile: '/d/server.log', fingerprint: 'AB:CD' })).toEqual([
      'listening [::1]:7000',
      'log /d/server.log',
      'fingerprint AB:CD',
      'type /help for host commands',
    ]);
    expect(hostReadyLines({ address: { ...address, address: '127.0.0.1' }, logFile: 'l', fingerprint: null }).slice(0, 3)).toEqual([
      'listening 127.0.0.1:7000',
      'log l',
      'not encrypted: TLS is off, passwords and messages cross the network in clear text',
    ]);
  });
});
