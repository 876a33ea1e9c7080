/**
 * Headless host: `npm run host -- --port <p> [--bind <addr>] --data <dir> [--room <name>]`.
 * Prints `listening <addr>:<port>` when ready; stops cleanly on SIGINT or SIGTERM.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT } from '../../src-shared/protocol.js';
import { startHost } from '../core/host.js';

const USAGE = 'usage: npm run host -- --port <port> [--bind <address>] --data <dir> [--room <name>] [--heartbeat <seconds>]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      bind: { type: 'string', default: '0.0.0.0' },
      data: { type: 'string' },
      room: { type: 'string', default: 'Room' },
      heartbeat: { type: 'string', default: '20' },
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

  const host = await startHost({
    dataDir: resolve(values.data),
    port,
    bind: values.bind,
    roomName: values.room,
    heartbeatTimeoutMs: heartbeatSeconds * 1000,
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
  // Listening for signals before saying "listening": a SIGTERM sent as soon as that line
  // appears would otherwise find no handler and kill the process uncleanly.
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const { address, port: boundPort } = host.address;
  console.log(`listening ${address.includes(':') ? `[${address}]` : address}:${boundPort}`);
  console.log(`log ${host.logFile}`);
}

main().catch((error: unknown) => {
  console.error(`host: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
