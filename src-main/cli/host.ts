/**
 * Headless host: `npm run host -- --port <p> [--bind <addr>] --data <dir> [--room <name>] [--no-tls] [--no-announce]`
 * plus access and limit options (see HOST_USAGE). Prints `listening <addr>:<port>` and `fingerprint <fp>`
 * (or `not encrypted`) when ready, then whether the room is announced on the local network; reads admin commands (/help) from standard input; stops cleanly
 * on SIGINT or SIGTERM.
 */
import { createInterface } from 'node:readline';
import { startHost } from '../core/host.js';
import { HOST_USAGE, hostReadyLines, parseHostArgs } from './host-args.js';
import { runHostCommand } from './host-commands.js';

async function main(): Promise<void> {
  const commandLine = parseHostArgs(process.argv.slice(2), process.env);
  if (commandLine.help) {
    console.log(HOST_USAGE);
    return;
  }
  const host = await startHost({ ...commandLine.options, searchThreadAtOpening: true });
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

  for (const line of hostReadyLines(host)) console.log(line);
  const announced = await host.announced;
  if (!announced.on) console.log(`not announced: ${announced.reason}`);
  else if (announced.taken.length === 0) console.log(`announced on the local network as "${announced.instance}"`);
  else console.log(`announced on the local network as "${announced.instance}": ${announced.taken.map((name) => `"${name}"`).join(', ')} ${announced.taken.length === 1 ? 'is' : 'are'} taken by another host on the network`);
}

main().catch((error: unknown) => {
  console.error(`host: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
