/**
 * Terminal client: `npm run chat -- --server <host>:<port> --user <name> --password <pw>`.
 * Reads commands line by line from stdin (a terminal or a pipe) and prints one
 * line per event. The password may also come from LANCHAT_PASSWORD; `--passphrase`
 * (or LANCHAT_PASSPHRASE) gives the room passphrase for creating an account where one is asked.
 * Connections use TLS: the host's certificate fingerprint is trusted the first
 * time and pinned; a changed one is refused unless --fingerprint names it, and a pinned host
 * is not contacted without TLS unless --drop-pin names its pin.
 */
import { createInterface } from 'node:readline';
import { terminalPinsFile } from '../core/profile.js';
import { runChat } from './chat-run.js';

runChat(process.argv.slice(2), {
  env: process.env,
  print: (line) => process.stdout.write(`${line}\n`),
  lines: () => createInterface({ input: process.stdin, terminal: false }),
  pinsFile: terminalPinsFile(),
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`chat: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
