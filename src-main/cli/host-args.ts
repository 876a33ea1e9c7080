/** The headless host's command line: parsed into host options, and its ready lines. Pure; host.ts wires them. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ACCESS_MODES, type AccessMode, DEFAULT_PORT } from '../../src-shared/protocol/limits.js';
import type { Host, HostOptions } from '../core/host.js';
import type { AccessOptions, RoomLimits } from '../server/access.js';
import { CONTENT_STORE_KINDS, type ContentStoreKind } from '../server/file-store/contents.js';
import { flagSettings, mergeSettings, type OptionTable, readConfigFile, readEnvironment, type Settings, SettingsError } from './host-config.js';

export const HOST_USAGE = [
  'usage: lanchat-host [--config <file>] [--print-config] --port <port> [--bind <address>] --data <dir> [--room <name>] [--heartbeat <seconds>] [--no-tls]',
  '       lanchat-host admin --help  (a running host\'s console commands over its admin API)',
  '       lanchat-host backup --help  (an online backup of a host alone)',
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
  '  [--files-dir <dir>]  (the folder files are kept in; default <data>/files; on a cluster, one every node mounts)',
  '  [--files-store folder|postgres]  (a cluster node keeps files in the room\'s database unless given --files-dir)',
  'a node of a clustered room (docs/DEPLOYMENT.md): --postgres <url> (or LANCHAT_POSTGRES_URL) [--nats <url>[,<url>...]]',
  '  every node presents the same certificate: copy tls-key.pem and tls-cert.pem into each node\'s --data folder',
  '  the bus (NATS) secured: --nats-ca <file>  (the CA of the NATS servers\' certificates) --nats-user <name>',
  '  --nats-password <text>  (or LANCHAT_NATS_PASSWORD)  [--insecure-bus]  (start on an open bus: a test bench only)',
  'service: [--admin-port <port>] [--admin-bind <address>]  (HTTP /healthz, /readyz, /metrics; default 127.0.0.1, off without a port)',
  '  [--drain-seconds <n>]  (on SIGTERM: how long the drain may take before the host stops anyway; default 10)',
  '  [--admin-token <text>]  (or LANCHAT_ADMIN_TOKEN_FILE: turns on the admin API, POST /admin; lanchat-host admin --help)',
  '  [--log-max-bytes <n>|off] [--log-keep <n>]  (server.log rotated past 10 MiB, 5 older files kept; SIGHUP reopens it)',
  'every setting is also a key of the config file (--config <file> or LANCHAT_CONFIG; YAML, "max-name: 24") and an',
  '  environment variable (LANCHAT_MAX_NAME; LANCHAT_MAX_NAME_FILE reads it from a file): a flag overrides the',
  '  variable, which overrides the file. --print-config shows the settings in force, secrets masked.',
].join('\n');

/** What the service around the host does (host.ts): its admin HTTP port, and how long a drain may take. */
export interface ServiceOptions {
  /** Null: no admin port. */
  adminPort: number | null;
  adminBind: string;
  drainMs: number;
  /** The bearer token of the admin API (admin-api.ts); null: no admin API. */
  adminToken: string | null;
}

/**
 * What the command line asks for: the usage, or a host with these options (or only the settings
 * printed, with `printConfig`).
 */
export type HostCommandLine =
  | { help: true }
  | { help: false; options: HostOptions; service: ServiceOptions; settings: Settings; printConfig: boolean };

class UsageError extends SettingsError {
  constructor(
    readonly problem: string,
    /** The setting that is wrong. */
    readonly option?: string,
  ) {
    super(`${problem}\n${HOST_USAGE}`);
  }
}

/** A whole number of at least 1 from an option, or undefined when not given. */
function count(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new UsageError(`--${option} must be a whole number of at least 1`, option);
  return parsed;
}

function seconds(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(parsed > 0)) throw new UsageError(`--${option} must be a number of seconds above 0`, option);
  return parsed * 1000;
}

function accessOption(mode: string | undefined, passphrase: string | undefined): AccessOptions | undefined {
  if (mode === undefined) return undefined;
  if (!(ACCESS_MODES as readonly string[]).includes(mode)) throw new UsageError(`--access must be one of ${ACCESS_MODES.join(', ')}`, 'access');
  if (mode === 'passphrase' && !passphrase) throw new UsageError('--access passphrase needs --passphrase or LANCHAT_PASSPHRASE', 'access');
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
  if (!(Number.isSafeInteger(parsed) && parsed > 0)) throw new UsageError(`--${option} must be a whole number of bytes above 0`, option);
  return parsed;
}

/** Reads a limit flag: a positive number, or "off" for no limit. */
function limitFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'off') return Infinity;
  const number = Number(value);
  if (!(number > 0)) throw new UsageError(`--${name} must be a number above 0 or "off", not "${value}"`, name);
  return number;
}

/**
 * Every setting of the host, each a flag `--<name>`, a key `<name>:` of the config file and an environment
 * variable LANCHAT_<NAME> (host-config.ts). Add a setting here and all three exist.
 */
export const HOST_OPTIONS = {
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
  'files-store': { type: 'string' },
  postgres: { type: 'string' },
  nats: { type: 'string' },
  'admin-port': { type: 'string' },
  'admin-bind': { type: 'string', default: '127.0.0.1' },
  'drain-seconds': { type: 'string', default: '10' },
  'nats-ca': { type: 'string' },
  'nats-user': { type: 'string' },
  'nats-password': { type: 'string' },
  'insecure-bus': { type: 'boolean', default: false },
  'admin-token': { type: 'string' },
  'log-max-bytes': { type: 'string', default: String(10 * 1024 * 1024) },
  'log-keep': { type: 'string', default: '5' },
} as const satisfies OptionTable;

/** Flags that are not settings: they say what to do with them. */
const COMMAND_FLAGS = {
  config: { type: 'string' },
  'print-config': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Older names of the environment variables, still read. */
const ENV_ALIASES: Readonly<Record<string, string>> = { postgres: 'LANCHAT_POSTGRES_URL' };

type HostValues = {
  -readonly [K in keyof typeof HOST_OPTIONS]?: (typeof HOST_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** The settings from the flags, the environment and the config file (`--config` or LANCHAT_CONFIG), in that order. */
function hostSettings(args: string[], env: NodeJS.ProcessEnv, readText: (path: string) => string): { help: boolean; print: boolean; settings: Settings } {
  const withoutDefaults = Object.fromEntries(Object.entries(HOST_OPTIONS).map(([name, { type }]) => [name, { type }]));
  const { values } = parseArgs({ args, options: { ...withoutDefaults, ...COMMAND_FLAGS }, strict: true });
  const configPath = (values.config as string | undefined) ?? env.LANCHAT_CONFIG;
  let file: Settings = new Map();
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readText(configPath);
    } catch (error) {
      throw new SettingsError(`cannot read the config file ${configPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    file = readConfigFile(configPath, text, HOST_OPTIONS, readText);
  }
  const flags = flagSettings(values as Record<string, string | boolean | undefined>, HOST_OPTIONS);
  const settings = mergeSettings(HOST_OPTIONS, flags, readEnvironment(env, HOST_OPTIONS, readText, ENV_ALIASES), file);
  return { help: values.help === true, print: values['print-config'] === true, settings };
}

/**
 * Throws an Error whose message ends with the usage when the arguments are wrong, naming where a wrong
 * setting came from (a flag, a variable, a line of the config file).
 */
export function parseHostArgs(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  readText: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): HostCommandLine {
  const { help, print, settings } = hostSettings(args, env, readText);
  if (help) return { help: true };
  const values = Object.fromEntries([...settings].map(([name, setting]) => [name, setting.value])) as HostValues;
  try {
    return { help: false, ...hostOptions(values), settings, printConfig: print };
  } catch (error) {
    const source = error instanceof UsageError && error.option !== undefined ? settings.get(error.option)?.source : undefined;
    if (source === undefined || source === `--${(error as UsageError).option}`) throw error;
    throw new UsageError(`${(error as UsageError).problem} (set by ${source})`);
  }
}

/** Where files are kept: a folder (a cluster's shared with --files-dir), or a cluster's database, its default. */
function filesStoreOption(value: string | undefined, cluster: boolean, folderGiven: boolean): ContentStoreKind {
  if (value !== undefined && !(CONTENT_STORE_KINDS as readonly string[]).includes(value)) {
    throw new UsageError(`--files-store must be one of ${CONTENT_STORE_KINDS.join(', ')}`, 'files-store');
  }
  const kind = (value as ContentStoreKind | undefined) ?? (cluster && !folderGiven ? 'postgres' : 'folder');
  if (kind === 'postgres' && !cluster) throw new UsageError('--files-store postgres keeps files in the room\'s PostgreSQL database: it needs --postgres', 'files-store');
  if (kind === 'postgres' && folderGiven) throw new UsageError('--files-dir names a folder, but --files-store postgres keeps files in the database: give one', 'files-store');
  if (kind === 'folder' && cluster && !folderGiven) {
    throw new UsageError('--files-store folder on a node of a cluster needs --files-dir, the folder every node mounts', 'files-store');
  }
  return kind;
}

function portNumber(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--${option} must be 0 to 65535`, option);
  return port;
}

function hostOptions(values: HostValues): { options: HostOptions; service: ServiceOptions } {
  const port = portNumber(values.port, 'port')!;
  if (!values.data) throw new UsageError('--data <dir> is required (or "data: <dir>" in the config file)');
  const heartbeatMs = seconds(values.heartbeat, 'heartbeat')!;
  const access = accessOption(values.access, values.passphrase);
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
    throw new UsageError('--max-frame-bytes must be a whole number of bytes', 'max-frame-bytes');
  }
  const maxDatabaseBytes = byteCount(values['max-database-bytes'], 'max-database-bytes');
  if (values['admin-token'] !== undefined && values['admin-port'] === undefined) {
    throw new UsageError('--admin-token needs --admin-port: the admin API is served there', 'admin-token');
  }
  const postgres = values.postgres;
  const nats = values.nats?.split(',').map((url) => url.trim()).filter((url) => url !== '');
  if (nats && !postgres) throw new UsageError('--nats needs --postgres: the nodes of a room share one PostgreSQL database', 'nats');
  if (nats?.length === 0) throw new UsageError('--nats needs at least one URL', 'nats');
  const busSecurity = given({
    caFile: values['nats-ca'] !== undefined ? resolve(values['nats-ca']) : undefined,
    user: values['nats-user'],
    password: values['nats-password'],
  });
  const busFlags = ['nats-ca', 'nats-user', 'nats-password', 'insecure-bus'] as const;
  const busFlag = busFlags.find((flag) => values[flag] !== undefined && values[flag] !== false);
  if (busFlag && !nats) throw new UsageError(`--${busFlag} needs --nats: it secures the bus to the other nodes`, busFlag);
  if (postgres && maxDatabaseBytes !== undefined) {
    throw new UsageError('--max-database-bytes caps the SQLite file; PostgreSQL has its own quotas', 'max-database-bytes');
  }
  const filesStore = filesStoreOption(values['files-store'], postgres !== undefined, values['files-dir'] !== undefined);
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
    service: {
      adminPort: portNumber(values['admin-port'], 'admin-port') ?? null,
      adminBind: values['admin-bind']!,
      drainMs: seconds(values['drain-seconds'], 'drain-seconds')!,
      adminToken: adminToken(values['admin-token']),
    },
    options: {
      dataDir: resolve(values.data),
      port,
      bind: values.bind,
      roomName: values.room,
      heartbeatTimeoutMs: heartbeatMs,
      tls: !values['no-tls'],
      announce: !values['no-announce'],
      rateLimits,
      ...(maxFrameBytes !== undefined ? { maxFrameBytes } : {}),
      ...(maxDatabaseBytes !== undefined ? { maxDatabaseBytes } : {}),
      limits,
      throttle,
      files: { limits: fileLimits },
      ...(values['files-dir'] !== undefined ? { filesDir: resolve(values['files-dir']) } : {}),
      ...(filesStore === 'postgres' ? { filesStore } : {}),
      ...(postgres
        ? {
            cluster: {
              postgres,
              ...(nats ? { nats, ...(Object.keys(busSecurity).length > 0 ? { busSecurity } : {}), ...(values['insecure-bus'] ? { insecureBus: true } : {}) } : {}),
            },
          }
        : {}),
      ...(access ? { access } : {}),
      logRotation: { maxBytes: limitFlag('log-max-bytes', values['log-max-bytes'])!, keep: count(values['log-keep'], 'log-keep')! },
    },
  };
}

/** Long enough that guessing it over HTTP is hopeless: `openssl rand -base64 32` gives 44 characters. */
const MIN_TOKEN_LENGTH = 32;

function adminToken(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(`--admin-token must be at least ${MIN_TOKEN_LENGTH} characters (openssl rand -base64 32 makes one)`, 'admin-token');
  }
  return value;
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
