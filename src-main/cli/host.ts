/**
 * Headless host, `lanchat-host` (built by scripts/build-host.ts; `npm run host` runs it from source): its
 * settings from flags, the environment and a config file (HOST_USAGE, host-config.ts). Prints
 * `listening <addr>:<port>` and `fingerprint <fp>` (or `not encrypted`) when ready, then whether the room
 * is announced on the local network; reads admin commands (/help) from standard input, and takes them over
 * HTTP with an admin-token (admin-api.ts; `lanchat-host admin` sends them, admin-cli.ts). SIGHUP reopens
 * server.log. SIGTERM drains
 * (docs/DEPLOYMENT.md, "Stopping a node"): /readyz turns 503, clients are sent to another address, sends
 * in flight are stored, then the host stops and exits 0; SIGINT stops at once.
 */
import { createInterface } from 'node:readline';
import { startHost } from '../core/host.js';
import { HOST_USAGE, hostReadyLines, parseHostArgs } from './host-args.js';
import { runHostCommand } from './host-commands.js';
import { printSettings } from './host-config.js';

/** Past the drain's bound, this long for the store and log to close before the process gives up on them. */
const STOP_GRACE_MS = 5000;

async function main(): Promise<void> {
  const io = { env: process.env, print: console.log, printError: console.error };
  if (process.argv[2] === 'admin') {
    process.exitCode = await (await import('./admin-cli.js')).runAdminCli(process.argv.slice(3), io);
    return;
  }
  if (process.argv[2] === 'backup') {
    process.exitCode = await (await import('./backup.js')).runBackupCli(process.argv.slice(3), io);
    return;
  }
  const commandLine = parseHostArgs(process.argv.slice(2), process.env);
  if (commandLine.help) {
    console.log(HOST_USAGE);
    return;
  }
  if (commandLine.printConfig) {
    console.log(printSettings(commandLine.settings));
    return;
  }
  const { service } = commandLine;
  // prom-client and the HTTP server are loaded only for an admin port.
  const admin = service.adminPort !== null ? await import('./admin-port.js') : null;
  const metrics = admin ? new admin.HostMetrics() : null;
  const host = await startHost({ ...commandLine.options, searchThreadAtOpening: true, ...(metrics ? { onCommit: metrics.onCommit } : {}) });
  await host.server.ready;
  const context = { settings: printSettings(commandLine.settings).split('\n') };
  const api = service.adminToken !== null ? new (await import('./admin-api.js')).AdminApi(service.adminToken, host.server.admin, host.log, context) : null;
  const adminPort = admin && metrics ? await admin.startAdminPort(host, metrics, service.adminPort!, service.adminBind, api) : null;
  // logrotate (copytruncate not needed): after it moved server.log away, SIGHUP starts a new one.
  process.on('SIGHUP', () => host.log.reopen());

  let stopping = false;
  const stop = async (signal: string, drain: boolean): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`${drain ? 'draining' : 'stopping'} (${signal})`);
    // Whatever hangs past the bound, the process ends: a supervisor waits for it.
    setTimeout(() => {
      console.error(`host: not stopped ${(service.drainMs + STOP_GRACE_MS) / 1000} s after ${signal}; exiting`);
      process.exit(1);
    }, service.drainMs + STOP_GRACE_MS).unref();
    if (drain) {
      if (adminPort) adminPort.draining = true;
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([host.server.drain(), new Promise((resolve) => (bound = setTimeout(resolve, service.drainMs)))]);
      clearTimeout(bound);
    }
    await host.stop();
    await adminPort?.close();
    console.log('stopped');
  };
  const stopThenExit = (signal: string, drain: boolean): void => {
    stop(signal, drain).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`error while stopping: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  // Before "listening" is printed: whoever waits for that line may signal at once.
  process.once('SIGINT', () => stopThenExit('SIGINT', false));
  process.once('SIGTERM', () => stopThenExit('SIGTERM', true));

  // Commands run one at a time, in the order typed.
  let commands = Promise.resolve();
  createInterface({ input: process.stdin }).on('line', (line) => {
    commands = commands
      .then(async () => {
        for (const output of await runHostCommand(host.server, line, context)) console.log(output);
      })
      .catch((error: unknown) => console.error(`error: ${error instanceof Error ? error.message : String(error)}`));
  });

  for (const line of hostReadyLines(host)) console.log(line);
  if (adminPort) console.log(`admin http://${adminPort.address.address.includes(':') ? `[${adminPort.address.address}]` : adminPort.address.address}:${adminPort.address.port}`);
  const announced = await host.announced;
  if (!announced.on) console.log(`not announced: ${announced.reason}`);
  else if (announced.taken.length === 0) console.log(`announced on the local network as "${announced.instance}"`);
  else console.log(`announced on the local network as "${announced.instance}": ${announced.taken.map((name) => `"${name}"`).join(', ')} ${announced.taken.length === 1 ? 'is' : 'are'} taken by another host on the network`);
}

main().catch((error: unknown) => {
  console.error(`host: ${error instanceof Error ? error.message : String(error)}`);
  // A node refused for its version says so with its own status (IncompatibleNodeError), so systemd does not retry it.
  const status = (error as { exitCode?: unknown }).exitCode;
  process.exit(typeof status === 'number' ? status : 1);
});
