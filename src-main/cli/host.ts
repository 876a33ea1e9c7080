/**
 * Headless host: `npm run host -- --port <p> [--bind <addr>] --data <dir> [--room <name>] [--no-tls]`.
 * Prints `listening <addr>:<port>` and `fingerprint <fp>` (or `not encrypted`) when ready;
 * stops cleanly on SIGINT or SIGTERM.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT } from '../../src-shared/protocol.js';
import { startHost } from '../core/host.js';

const USAGE =
  'usage: npm run host -- --port <port> [--bind <address>] --data <dir> [--room <name>] [--heartbeat <seconds>] [--no-tls]\n' +
  '  per-connection limits (a number, or "off"): [--max-frame-bytes <n>] [--frames-per-second <n>] [--frame-burst <n>]\n' +
  '  [--bytes-per-second <n>] [--byte-burst <n>]';

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

  const maxFrameBytes = limitFlag('max-frame-bytes', values['max-frame-bytes']);
  if (maxFrameBytes !== undefined && !Number.isInteger(maxFrameBytes)) {
    throw new Error(`--max-frame-bytes must be a whole number of bytes\n${USAGE}`);
  }
  const rateLimits = Object.fromEntries(
    (['frames-per-second', 'frame-burst', 'bytes-per-second', 'byte-burst'] as const)
      .map((flag) => [camelCase(flag), limitFlag(flag, values[flag])] as const)
      .filter(([, value]) => value !== undefined),
  );

  const host = await startHost({
    dataDir: resolve(values.data),
    port,
    bind: values.bind,
    roomName: values.room,
    heartbeatTimeoutMs: heartbeatSeconds * 1000,
    tls: !values['no-tls'],
    rateLimits,
    ...(maxFrameBytes !== undefined ? { maxFrameBytes } : {}),
  });
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
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  // Only now: whoever reads these lines may signal at once, and must find the handlers in place.
  const { address, port: boundPort } = host.address;
  console.log(`listening ${address.includes(':') ? `[${address}]` : address}:${boundPort}`);
  console.log(`log ${host.logFile}`);
  console.log(
    host.fingerprint !== null
      ? `fingerprint ${host.fingerprint}`
      : 'not encrypted: TLS is off, passwords and messages cross the network in clear text',
  );
}

function camelCase(flag: string): string {
  return flag.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
}

main().catch((error: unknown) => {
  console.error(`host: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
