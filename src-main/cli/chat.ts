/**
 * Terminal client: `npm run chat -- --server <host>:<port> --user <name> --password <pw>`.
 * Reads commands line by line from stdin (a terminal or a pipe) and prints one
 * line per event. The password may also come from LANCHAT_PASSWORD; `--passphrase`
 * (or LANCHAT_PASSPHRASE) gives the room passphrase for creating an account where one is asked.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ChatClient } from '../client/client.js';
import { TerminalSession, parseServer } from './terminal.js';

const USAGE = 'usage: npm run chat -- --server <host>:<port> --user <name> --password <password> [--passphrase <room passphrase>]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      passphrase: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const password = values.password ?? process.env.LANCHAT_PASSWORD;
  if (!values.server || !values.user || !password) {
    console.error(USAGE);
    return 2;
  }
  const { host, port } = parseServer(values.server);
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const passphrase = values.passphrase ?? process.env.LANCHAT_PASSPHRASE;
  const client = new ChatClient({
    host,
    port,
    name: values.user,
    password,
    clientName: 'lanchat-cli/0.1.0',
    ...(passphrase ? { passphrase } : {}),
  });
  const terminal = new TerminalSession(client, values.user, print);
  client.on('fatal', (error) => {
    print(`! ${error.message}`);
    process.exit(1);
  });
  try {
    await client.connect();
  } catch (error) {
    print(`! ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  print('type /help for commands');

  const input = createInterface({ input: process.stdin, terminal: false });
  for await (const line of input) {
    if ((await terminal.handle(line)) === 'quit') {
      input.close();
      break;
    }
  }
  client.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`chat: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
