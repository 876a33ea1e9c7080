/**
 * Terminal client: `npm run chat -- --server <host>:<port> --user <name> --password <pw>`.
 * Reads commands line by line from stdin (a terminal or a pipe) and prints one
 * line per event. The password may also come from LANCHAT_PASSWORD; `--passphrase`
 * (or LANCHAT_PASSPHRASE) gives the room passphrase for creating an account where one is asked.
 * Connections use TLS: the host's certificate fingerprint is trusted the first
 * time and pinned; a changed one is refused unless --fingerprint names it.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { ChatClient } from '../client/client.js';
import { ClientError, FingerprintChangedError } from '../client/errors.js';
import { PinFile, UNENCRYPTED, serverKey } from '../core/pins.js';
import { terminalPinsFile } from '../core/profile.js';
import { normalizeFingerprint } from '../net/tls.js';
import { TerminalSession, parseServer } from './terminal.js';

const USAGE =
  'usage: npm run chat -- --server <host>:<port> --user <name> --password <password> [--passphrase <room passphrase>] [--fingerprint <fp>] [--no-tls]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      fingerprint: { type: 'string' },
      'no-tls': { type: 'boolean', default: false },
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
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const accepted = values.fingerprint !== undefined ? normalizeFingerprint(values.fingerprint) : undefined;
  if (accepted === null) {
    print('! --fingerprint takes a SHA-256 fingerprint: 32 hex bytes, with or without colons');
    return 2;
  }
  const { host, port } = parseServer(values.server);
  const where = serverKey({ host, port });
  const tls = !values['no-tls'];
  const pins = new PinFile(terminalPinsFile());
  const pinned = pins.get(where);
  const expected = accepted ?? (pinned === UNENCRYPTED ? undefined : pinned);

  const passphrase = values.passphrase ?? process.env.LANCHAT_PASSPHRASE;
  const client = new ChatClient({
    host,
    port,
    name: values.user,
    password,
    clientName: 'lanchat-cli/0.1.0',
    tls,
    ...(expected !== undefined ? { fingerprint: expected } : {}),
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
    for (const line of describeFailure(error, where)) print(`! ${line}`);
    return 1;
  }
  const fingerprint = client.hostFingerprint;
  if (fingerprint === null) {
    print('*** not encrypted: this host has TLS turned off; anyone on the network can read this chat');
  } else {
    print(`fingerprint ${fingerprint}`);
    if (pinned !== fingerprint) {
      print(`*** ${pinned === undefined ? 'first connection to' : 'now trusting'} ${where}: fingerprint pinned in ${pins.file}`);
      print('*** compare it with the fingerprint the host shows');
      pins.set(where, fingerprint);
    }
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

/** What went wrong, and for the security refusals what the user can do about it. */
function describeFailure(error: unknown, where: string): string[] {
  if (error instanceof FingerprintChangedError) {
    return [
      `the certificate of ${where} has changed: pinned fingerprint ${error.expected}, presented ${error.actual}`,
      'someone on the network may be impersonating the host; nothing was sent to it',
      `if the host confirms the new fingerprint, run again with --fingerprint ${error.actual}`,
    ];
  }
  if (error instanceof ClientError && error.code === 'TLS_UNAVAILABLE') {
    return [error.message, 'only if you trust this network, run again with --no-tls (your password will cross it in clear text)'];
  }
  if (error instanceof ClientError && error.code === ErrorCode.TLS_REQUIRED) {
    return [`${where} only accepts encrypted connections: run again without --no-tls`];
  }
  return [error instanceof Error ? error.message : String(error)];
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`chat: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
