/**
 * Headless host: `npm run host -- --port <p> [--bind <addr>] --data <dir> [--room <name>] [--no-tls]`
 * plus access and limit options (see USAGE). Prints `listening <addr>:<port>` and `fingerprint <fp>`
 * (or `not encrypted`) when ready; reads admin commands (/help) from standard input; stops cleanly
 * on SIGINT or SIGTERM.
 */
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ACCESS_MODES, type AccessMode, DEFAULT_PORT } from '../../src-shared/protocol/limits.js';
import { startHost } from '../core/host.js';
import type { AccessOptions, RoomLimits } from '../server/access.js';
import { runHostCommand } from './host-commands.js';

const USAGE = [
  'usage: npm run host -- --port <port> [--bind <address>] --data <dir> [--room <name>] [--heartbeat <seconds>] [--no-tls]',
  '  per-connection limits (a number, or "off"): [--max-frame-bytes <n>] [--frames-per-second <n>] [--frame-burst <n>]',
  '  [--bytes-per-second <n>] [--byte-burst <n>]',
  '  [--access open|passphrase|approval] [--passphrase <text>]  (or LANCHAT_PASSPHRASE; without --access the saved mode applies)',
  '  [--max-groups <n>] [--max-members <n>] [--max-name <n>] [--max-group-name <n>] [--max-pending <n>]',
  '  [--login-free-failures <n>] [--login-delay <seconds>] [--login-max-delay <seconds>]',
].join('\n');

/** A whole number of at least 1 from an option, or undefined when not given. */
function count(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${option} must be a whole number of at least 1\n${USAGE}`);
  return parsed;
}

function seconds(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(parsed > 0)) throw new Error(`--${option} must be a number of seconds above 0\n${USAGE}`);
  return parsed * 1000;
}

function accessOption(mode: string | undefined, passphrase: string | undefined): AccessOptions | undefined {
  if (mode === undefined) return undefined;
  if (!(ACCESS_MODES as readonly string[]).includes(mode)) throw new Error(`--access must be one of ${ACCESS_MODES.join(', ')}\n${USAGE}`);
  if (mode === 'passphrase' && !passphrase) throw new Error(`--access passphrase needs --passphrase or LANCHAT_PASSPHRASE\n${USAGE}`);
  return { mode: mode as AccessMode, ...(mode === 'passphrase' ? { passphrase: passphrase! } : {}) };
}

/** Drops the options that were not given, so the server's defaults apply. */
function given<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Reads a limit flag: a positive number, or "off" for no limit. */
function limitFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'off') return Infinity;
  const number = Number(value);
  if (!(number > 0)) throw new Error(`--${name} must be a number above 0 or "off", not "${value}"\n${USAGE}`);
  return number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      bind: { type: 'string', default: '0.0.0.0' },
      data: { type: 'string' },
      room: { type: 'string', default: 'Room' },
      heartbeat: { type: 'string', default: '20' },
      'no-tls': { type: 'boolean', default: false },
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
      'login-free-failures': { type: 'string' },
      'login-delay': { type: 'string' },
      'login-max-delay': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  const heartbeatSeconds = Number(values.heartbeat);
  if (!values.data) throw new Error(`--data <dir> is required\n${USAGE}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0 to 65535\n${USAGE}`);
  if (!(heartbeatSeconds > 0)) throw new Error(`--heartbeat must be a number of seconds above 0\n${USAGE}`);
  const access = accessOption(values.access, values.passphrase ?? process.env.LANCHAT_PASSPHRASE);
  const limits: Partial<RoomLimits> = given({
    maxGroupsPerOwner: count(values['max-groups'], 'max-groups'),
    maxGroupMembers: count(values['max-members'], 'max-members'),
    maxNameLength: count(values['max-name'], 'max-name'),
    maxGroupNameLength: count(values['max-group-name'], 'max-group-name'),
    maxPendingAccounts: count(values['max-pending'], 'max-pending'),
  });
  const throttle = given({
    freeFailures: count(values['login-free-failures'], 'login-free-failures'),
    baseDelayMs: seconds(values['login-delay'], 'login-delay'),
    maxDelayMs: seconds(values['login-max-delay'], 'login-max-delay'),
  });

  const maxFrameBytes = limitFlag('max-frame-bytes', values['max-frame-bytes']);
  if (maxFrameBytes !== undefined && !Number.isInteger(maxFrameBytes)) {
    throw new Error(`--max-frame-bytes must be a whole number of bytes\n${USAGE}`);
  }
  const rateLimits = given({
    framesPerSecond: limitFlag('frames-per-second', values['frames-per-second']),
    frameBurst: limitFlag('frame-burst', values['frame-burst']),
    bytesPerSecond: limitFlag('bytes-per-second', values['bytes-per-second']),
    byteBurst: limitFlag('byte-burst', values['byte-burst']),
  });

  const host = await startHost({
    dataDir: resolve(values.data),
    port,
    bind: values.bind,
    roomName: values.room,
    heartbeatTimeoutMs: heartbeatSeconds * 1000,
    tls: !values['no-tls'],
    rateLimits,
    ...(maxFrameBytes !== undefined ? { maxFrameBytes } : {}),
    limits,
    throttle,
    ...(access ? { access } : {}),
  });
  await host.server.ready;

  const stop = (signal: string): void => {
    console.log(`stopping (${signal})`);
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`error while stopping: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  // Before "listening" is printed: whoever waits for that line may signal at once.
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  // Commands run one at a time, in the order typed.
  let commands = Promise.resolve();
  createInterface({ input: process.stdin }).on('line', (line) => {
    commands = commands
      .then(async () => {
        for (const output of await runHostCommand(host.server, line)) console.log(output);
      })
      .catch((error: unknown) => console.error(`error: ${error instanceof Error ? error.message : String(error)}`));
  });

  const { address, port: boundPort } = host.address;
  console.log(`listening ${address.includes(':') ? `[${address}]` : address}:${boundPort}`);
  console.log(`log ${host.logFile}`);
  console.log(
    host.fingerprint !== null
      ? `fingerprint ${host.fingerprint}`
      : 'not encrypted: TLS is off, passwords and messages cross the network in clear text',
  );
  console.log('type /help for host commands');
}

main().catch((error: unknown) => {
  console.error(`host: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
