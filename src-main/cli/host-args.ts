/** The headless host's command line: parsed into host options, and its ready lines. Pure; host.ts wires them. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ACCESS_MODES, type AccessMode, DEFAULT_PORT } from '../../src-shared/protocol/limits.js';
import type { Host, HostOptions } from '../core/host.js';
import type { AccessOptions, RoomLimits } from '../server/access.js';

export const HOST_USAGE = [
  'usage: npm run host -- --port <port> [--bind <address>] --data <dir> [--room <name>] [--heartbeat <seconds>] [--no-tls]',
  '  [--no-announce]  (do not announce the room on the local network)',
  '  per-connection limits (a number, or "off"): [--max-frame-bytes <n>] [--frames-per-second <n>] [--frame-burst <n>]',
  '  [--bytes-per-second <n>] [--byte-burst <n>]',
  '  [--access open|passphrase|approval] [--passphrase <text>]  (or LANCHAT_PASSPHRASE; without --access the saved mode applies)',
  '  [--max-groups <n>] [--max-members <n>] [--max-name <n>] [--max-group-name <n>] [--max-pending <n>]',
  '  [--registrations-per-minute <n>] [--address-registrations-per-minute <n>] [--logins-per-minute <n>] [--changes-per-minute <n>]',
  '  [--login-free-failures <n>] [--login-delay <seconds>] [--login-max-delay <seconds>]',
  '  [--max-database-bytes <n>]  (sends past it are refused with STORAGE_FULL, as on a full disk)',
  '  files: [--max-file-bytes <n>] [--max-file-storage-bytes <n>]  (all files kept) [--max-file-bytes-per-day <n>]  (per user)',
  '  [--max-transfers <n>]  (transfers one user may have open at once)',
  '  [--max-unfinished-uploads <n>] [--max-unfinished-bytes <n>]  (one user\'s uploads begun and not finished)',
  '  [--files-dir <dir>]  (where files are kept; default <data>/files, none on a cluster node)',
  'a node of a clustered room (docs/DEPLOYMENT.md): --postgres <url> (or LANCHAT_POSTGRES_URL) [--nats <url>[,<url>...]]',
  '  every node presents the same certificate: copy tls-key.pem and tls-cert.pem into each node\'s --data folder',
  '  the bus (NATS) secured: --nats-ca <file>  (the CA of the NATS servers\' certificates) --nats-user <name>',
  '  --nats-password <text>  (or LANCHAT_NATS_PASSWORD)  [--insecure-bus]  (start on an open bus: a test bench only)',
].join('\n');

/** What the command line asks for: the usage, or a host with these options. */
export type HostCommandLine = { help: true } | { help: false; options: HostOptions };

class UsageError extends Error {
  constructor(problem: string) {
    super(`${problem}\n${HOST_USAGE}`);
  }
}

/** A whole number of at least 1 from an option, or undefined when not given. */
function count(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new UsageError(`--${option} must be a whole number of at least 1`);
  return parsed;
}

function seconds(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(parsed > 0)) throw new UsageError(`--${option} must be a number of seconds above 0`);
  return parsed * 1000;
}

function accessOption(mode: string | undefined, passphrase: string | undefined): AccessOptions | undefined {
  if (mode === undefined) return undefined;
  if (!(ACCESS_MODES as readonly string[]).includes(mode)) throw new UsageError(`--access must be one of ${ACCESS_MODES.join(', ')}`);
  if (mode === 'passphrase' && !passphrase) throw new UsageError('--access passphrase needs --passphrase or LANCHAT_PASSPHRASE');
  return { mode: mode as AccessMode, ...(mode === 'passphrase' ? { passphrase: passphrase! } : {}) };
}

/** Drops the options that were not given, so the server's defaults apply. */
function given<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A whole number of bytes above 0 from an option, or undefined when not given. */
function byteCount(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(Number.isSafeInteger(parsed) && parsed > 0)) throw new UsageError(`--${option} must be a whole number of bytes above 0`);
  return parsed;
}

/** Reads a limit flag: a positive number, or "off" for no limit. */
function limitFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'off') return Infinity;
  const number = Number(value);
  if (!(number > 0)) throw new UsageError(`--${name} must be a number above 0 or "off", not "${value}"`);
  return number;
}

/** Throws an Error whose message ends with the usage when the arguments are wrong. */
export function parseHostArgs(args: string[], env: NodeJS.ProcessEnv = {}): HostCommandLine {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      bind: { type: 'string', default: '0.0.0.0' },
      data: { type: 'string' },
      room: { type: 'string', default: 'Room' },
      heartbeat: { type: 'string', default: '20' },
      'no-tls': { type: 'boolean', default: false },
      'no-announce': { type: 'boolean', default: false },
      'max-frame-bytes': { type: 'string' },
      'frames-per-second': { type: 'string' },
      'frame-burst': { type: 'string' },
      'bytes-per-second': { type: 'string' },
      'byte-burst': { type: 'string' },
      access: { type: 'string' },
      passphrase: { type: 'string' },
      'max-groups': { type: 'string' },
      'max-members': { type: 'string' },
      'max-name': { type: 'string' },
      'max-group-name': { type: 'string' },
      'max-pending': { type: 'string' },
      'registrations-per-minute': { type: 'string' },
      'address-registrations-per-minute': { type: 'string' },
      'logins-per-minute': { type: 'string' },
      'changes-per-minute': { type: 'string' },
      'login-free-failures': { type: 'string' },
      'login-delay': { type: 'string' },
      'login-max-delay': { type: 'string' },
      'max-database-bytes': { type: 'string' },
      'max-file-bytes': { type: 'string' },
      'max-file-storage-bytes': { type: 'string' },
      'max-file-bytes-per-day': { type: 'string' },
      'max-transfers': { type: 'string' },
      'max-unfinished-uploads': { type: 'string' },
      'max-unfinished-bytes': { type: 'string' },
      'files-dir': { type: 'string' },
      postgres: { type: 'string' },
      nats: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      'nats-ca': { type: 'string' },
      'nats-user': { type: 'string' },
      'nats-password': { type: 'string' },
      'insecure-bus': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return { help: true };
  const port = Number(values.port);
  const heartbeatSeconds = Number(values.heartbeat);
  if (!values.data) throw new UsageError('--data <dir> is required');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0 to 65535');
  if (!(heartbeatSeconds > 0)) throw new UsageError('--heartbeat must be a number of seconds above 0');
  const access = accessOption(values.access, values.passphrase ?? env.LANCHAT_PASSPHRASE);
  const limits: Partial<RoomLimits> = given({
    maxGroupsPerOwner: count(values['max-groups'], 'max-groups'),
    maxGroupMembers: count(values['max-members'], 'max-members'),
    maxNameLength: count(values['max-name'], 'max-name'),
    maxGroupNameLength: count(values['max-group-name'], 'max-group-name'),
    maxPendingAccounts: count(values['max-pending'], 'max-pending'),
    registrationsPerMinute: count(values['registrations-per-minute'], 'registrations-per-minute'),
    addressRegistrationsPerMinute: count(values['address-registrations-per-minute'], 'address-registrations-per-minute'),
    loginsPerMinute: count(values['logins-per-minute'], 'logins-per-minute'),
    changesPerMinute: count(values['changes-per-minute'], 'changes-per-minute'),
  });
  const throttle = given({
    freeFailures: count(values['login-free-failures'], 'login-free-failures'),
    baseDelayMs: seconds(values['login-delay'], 'login-delay'),
    maxDelayMs: seconds(values['login-max-delay'], 'login-max-delay'),
  });
  const maxFrameBytes = limitFlag('max-frame-bytes', values['max-frame-bytes']);
  if (maxFrameBytes !== undefined && !Number.isInteger(maxFrameBytes)) {
    throw new UsageError('--max-frame-bytes must be a whole number of bytes');
  }
  const maxDatabaseBytes = byteCount(values['max-database-bytes'], 'max-database-bytes');
  const postgres = values.postgres ?? env.LANCHAT_POSTGRES_URL;
  const nats = values.nats?.split(',').map((url) => url.trim()).filter((url) => url !== '');
  if (nats && !postgres) throw new UsageError('--nats needs --postgres: the nodes of a room share one PostgreSQL database');
  if (nats?.length === 0) throw new UsageError('--nats needs at least one URL');
  const busSecurity = given({
    caFile: values['nats-ca'] !== undefined ? resolve(values['nats-ca']) : undefined,
    user: values['nats-user'],
    password: values['nats-password'] ?? env.LANCHAT_NATS_PASSWORD,
  });
  const busFlags = ['nats-ca', 'nats-user', 'nats-password', 'insecure-bus'] as const;
  const busFlag = busFlags.find((flag) => values[flag] !== undefined && values[flag] !== false);
  if (busFlag && !nats) throw new UsageError(`--${busFlag} needs --nats: it secures the bus to the other nodes`);
  if (postgres && maxDatabaseBytes !== undefined) throw new UsageError('--max-database-bytes caps the SQLite file; PostgreSQL has its own quotas');
  const fileLimits = given({
    maxFileBytes: byteCount(values['max-file-bytes'], 'max-file-bytes'),
    maxFileStorageBytes: byteCount(values['max-file-storage-bytes'], 'max-file-storage-bytes'),
    maxFileBytesPerDay: byteCount(values['max-file-bytes-per-day'], 'max-file-bytes-per-day'),
    maxTransfersPerUser: count(values['max-transfers'], 'max-transfers'),
    maxUnfinishedUploadsPerUser: count(values['max-unfinished-uploads'], 'max-unfinished-uploads'),
    maxUnfinishedBytesPerUser: byteCount(values['max-unfinished-bytes'], 'max-unfinished-bytes'),
  });
  const rateLimits = given({
    framesPerSecond: limitFlag('frames-per-second', values['frames-per-second']),
    frameBurst: limitFlag('frame-burst', values['frame-burst']),
    bytesPerSecond: limitFlag('bytes-per-second', values['bytes-per-second']),
    byteBurst: limitFlag('byte-burst', values['byte-burst']),
  });
  return {
    help: false,
    options: {
      dataDir: resolve(values.data),
      port,
      bind: values.bind,
      roomName: values.room,
      heartbeatTimeoutMs: heartbeatSeconds * 1000,
      tls: !values['no-tls'],
      announce: !values['no-announce'],
      rateLimits,
      ...(maxFrameBytes !== undefined ? { maxFrameBytes } : {}),
      ...(maxDatabaseBytes !== undefined ? { maxDatabaseBytes } : {}),
      limits,
      throttle,
      files: { limits: fileLimits },
      ...(values['files-dir'] !== undefined ? { filesDir: resolve(values['files-dir']) } : {}),
      ...(postgres
        ? {
            cluster: {
              postgres,
              ...(nats ? { nats, ...(Object.keys(busSecurity).length > 0 ? { busSecurity } : {}), ...(values['insecure-bus'] ? { insecureBus: true } : {}) } : {}),
            },
          }
        : {}),
      ...(access ? { access } : {}),
    },
  };
}

/** What the host prints once it listens; whoever waits for "listening" may signal at once. */
export function hostReadyLines(host: Pick<Host, 'address' | 'logFile' | 'fingerprint'>): string[] {
  const { address, port } = host.address;
  return [
    `listening ${address.includes(':') ? `[${address}]` : address}:${port}`,
    `log ${host.logFile}`,
    host.fingerprint !== null
      ? `fingerprint ${host.fingerprint}`
      : 'not encrypted: TLS is off, passwords and messages cross the network in clear text',
    'type /help for host commands',
  ];
}
