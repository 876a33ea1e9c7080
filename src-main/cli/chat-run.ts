/**
 * The terminal client's run, apart from the process: arguments, pinning the host's
 * certificate, connecting, reading command lines until the end of input. chat.ts
 * wires it to argv, stdin and stdout; tests run it in-process.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { ChatClient } from '../client/client.js';
import { DeviceStore, deviceStoreKey } from '../client/e2ee-store.js';
import { ClientError, FingerprintChangedError } from '../client/errors.js';
import { DeviceHistory } from '../core/e2ee-history.js';
import { E2eeMessaging } from '../core/e2ee-messaging.js';
import { LookalikeRoomError } from '../core/errors.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { KnownRooms, PinFile, RoomNameFile, UNENCRYPTED, serverKey } from '../core/pins.js';
import { normalizeFingerprint } from '../net/tls.js';
import { watchRooms } from '../discovery/browse.js';
import { printable } from './terminal-format.js';
import { TerminalSession, parseServer } from './terminal.js';

export const CHAT_USAGE = [
  'usage: npm run chat -- --server <host>:<port>[,<host>:<port>…] --user <name> --password <password> [--passphrase <room passphrase>] [--fingerprint <fp> [--different-room]] [--no-tls [--drop-pin <fp>]]',
  '   or: npm run chat -- --discover [--wait <seconds>]   (lists the rooms announced on the local network)',
].join('\n');
const DEFAULT_DISCOVER_SECONDS = 3;

export interface ChatIo {
  /** LANCHAT_PASSWORD and LANCHAT_PASSPHRASE are read from here. */
  env: NodeJS.ProcessEnv;
  print: (line: string) => void;
  /**
   * The command lines typed or piped in; the client quits at their end. Opened once connected:
   * a readline interface made earlier would drop what stdin delivered before reading began.
   */
  lines: () => AsyncIterable<string>;
  pinsFile: string;
}

/** Runs the client; resolves with the process exit code. */
export async function runChat(args: string[], io: ChatIo): Promise<number> {
  const { env } = io;
  // Every line may hold what a host or a peer sent.
  const print = (line: string): void => io.print(printable(line));
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      fingerprint: { type: 'string' },
      'no-tls': { type: 'boolean', default: false },
      'drop-pin': { type: 'string' },
      'different-room': { type: 'boolean', default: false },
      passphrase: { type: 'string' },
      discover: { type: 'boolean', default: false },
      wait: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    print(CHAT_USAGE);
    return 0;
  }
  const known = knownRooms(io.pinsFile);
  if (values.discover) return discover(values.wait, print, known.rooms);
  const password = values.password ?? env.LANCHAT_PASSWORD;
  if (!values.server || !values.user || !password) {
    print(CHAT_USAGE);
    return 2;
  }
  const accepted = values.fingerprint !== undefined ? normalizeFingerprint(values.fingerprint) : undefined;
  if (accepted === null) {
    print('! --fingerprint takes a SHA-256 fingerprint: 32 hex bytes, with or without colons');
    return 2;
  }
  // Several addresses of one room (a cluster's nodes), comma-separated: the pin is kept under the first.
  const [primary, ...alternates] = values.server.split(',').map((address) => parseServer(address.trim()));
  const { host, port } = primary!;
  const where = serverKey({ host, port });
  const tls = !values['no-tls'];
  const { pins, names, rooms } = known;
  const pinned = pins.get(where);
  const expected = accepted ?? (pinned === UNENCRYPTED ? undefined : pinned);
  const certificatePin = pinned === undefined || pinned === UNENCRYPTED ? undefined : pinned;
  if (!tls && certificatePin !== undefined && normalizeFingerprint(values['drop-pin'] ?? '') !== certificatePin) {
    for (const line of downgradeRefusal(where, certificatePin)) print(`! ${line}`);
    return 1;
  }

  const passphrase = values.passphrase ?? env.LANCHAT_PASSPHRASE;
  const client = new ChatClient({
    host,
    port,
    alternates,
    name: values.user,
    password,
    clientName: 'lanchat-cli/0.1.0',
    tls,
    ...(expected !== undefined ? { fingerprint: expected } : {}),
    ...(passphrase ? { passphrase } : {}),
    // An address not joined before must not pass for a room joined before: nothing, not even the name, goes to a look-alike.
    ...(pinned === undefined ? { checkRoom: lookalikeCheck(rooms, values['different-room'] ? accepted : undefined) } : {}),
  });
  const terminal = new TerminalSession(client, values.user, print);
  const fatal = new Promise<number>((resolve) =>
    client.on('fatal', (error) => {
      print(`! ${error.message}`);
      resolve(1);
    }),
  );
  try {
    await client.connect();
  } catch (error) {
    for (const line of describeFailure(error, where, certificatePin)) print(`! ${line}`);
    client.close();
    return 1;
  }
  const fingerprint = client.hostFingerprint;
  if (fingerprint === null) {
    print('*** not encrypted: this host has TLS turned off; anyone on the network can read this chat');
    pins.set(where, UNENCRYPTED);
  } else {
    print(`fingerprint ${fingerprint}`);
    if (pinned !== fingerprint) {
      print(`*** ${pinned === undefined ? 'first connection to' : 'now trusting'} ${where}: fingerprint pinned in ${pins.file}`);
      print('*** compare it with the fingerprint the host shows');
      pins.set(where, fingerprint);
    }
    const roomName = client.session?.hello.room;
    if (roomName !== undefined) names.set(fingerprint, roomName);
  }
  const device = await startDevice(client, io.pinsFile, where);
  terminal.useEncryption(device);
  // What was sent while this device was away, once the session prints it.
  if (device !== null && !(device instanceof Error)) await device.catchUp().catch((error: unknown) => print(`! could not fetch the encrypted messages sent meanwhile: ${error instanceof Error ? error.message : String(error)}`));
  print('type /help for commands');

  const readLines = async (): Promise<number> => {
    for await (const line of io.lines()) if ((await terminal.handle(line)) === 'quit') break;
    return 0;
  };
  const code = await Promise.race([readLines(), fatal]);
  terminal.leaving();
  // The client first: what the device still had queued ends, and is saved, before its files close.
  client.close();
  if (device !== null && !(device instanceof Error)) {
    await device.close();
    await device.history.close();
  }
  return code;
}

/**
 * This install as an encryption device (issue 35): kept encrypted in `.terminal-devices` beside the pins
 * (its key in a file only the user may read), with its decrypted history encrypted with the same key, one
 * folder per host and account.
 * Null when the host has no encrypted layer; the error when the device could not start.
 */
async function startDevice(client: ChatClient, pinsFile: string, where: string): Promise<E2eeMessaging | Error | null> {
  const name = client.session?.login.name ?? '';
  const devices = join(dirname(pinsFile), '.terminal-devices');
  const folder = join(devices, createHash('sha256').update(`${where}\n${nameKey(name)}`).digest('hex').slice(0, 32));
  let history: DeviceHistory | undefined;
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const key = deviceStoreKey(devices);
    history = new DeviceHistory(join(folder, 'history.sqlite'), key);
    const device = await E2eeMessaging.start(client, history, new DeviceStore(join(folder, 'device'), key));
    if (device === null) await history.close();
    return device;
  } catch (error) {
    await history?.close();
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * The rooms this terminal client joined: its pins by address, and beside them (`<pins>-rooms.json`) the
 * name each room's fingerprint gave when joined, so a room named like one of them at a new address is a
 * look-alike, as in the app (core/host-trust.ts).
 */
function knownRooms(pinsFile: string): { pins: PinFile; names: RoomNameFile; rooms: KnownRooms } {
  const pins = new PinFile(pinsFile);
  const names = new RoomNameFile(join(dirname(pinsFile), `${basename(pinsFile, '.json')}-rooms.json`));
  return { pins, names, rooms: new KnownRooms(pins, names) };
}

/** Refuses, before the login, a room named like one joined before under another fingerprint, unless `differentRoom` names its fingerprint. */
function lookalikeCheck(rooms: KnownRooms, differentRoom: string | undefined): (room: { name: string; fingerprint: string | null }) => Error | null {
  return ({ name, fingerprint }) => {
    const like = rooms.passesFor([name], fingerprint, fingerprint !== null && fingerprint === differentRoom);
    return like ? new LookalikeRoomError(like.claimed, like.fingerprint, fingerprint) : null;
  };
}

/** Why a pinned host is not contacted without TLS, and the separate confirmation that would allow it. */
function downgradeRefusal(where: string, pin: string): string[] {
  return [
    `${where} is pinned to the certificate ${pin}: it has always answered with TLS`,
    'without TLS your password would go to whoever answers on that address; nothing was sent',
    `only if the host confirms it turned TLS off, run again with --no-tls --drop-pin ${pin}`,
  ];
}

/** What went wrong, and for the security refusals what the user can do about it. */
export function describeFailure(error: unknown, where: string, certificatePin?: string): string[] {
  if (error instanceof LookalikeRoomError) {
    return [
      `another room calls itself "${error.roomName}": not the one you joined, whose fingerprint is ${error.known}`,
      `${where} presented ${error.presented ?? 'no certificate (no TLS)'}; someone on the network may be posing as your room to get your password; nothing was sent to it, not even your name`,
      ...(error.presented !== null ? [`only if you know this is a different room, run again with --fingerprint ${error.presented} --different-room`] : []),
    ];
  }
  if (error instanceof FingerprintChangedError) {
    return [
      `the certificate of ${where} has changed: pinned fingerprint ${error.expected}, presented ${error.actual}`,
      'someone on the network may be impersonating the host; nothing was sent to it',
      `if the host confirms the new fingerprint, run again with --fingerprint ${error.actual}`,
    ];
  }
  if (error instanceof ClientError && error.code === 'TLS_UNAVAILABLE') {
    if (certificatePin !== undefined) {
      return [error.message, 'someone on the network may be impersonating the host', ...downgradeRefusal(where, certificatePin).slice(0, 1)];
    }
    return [error.message, 'only if you trust this network, run again with --no-tls (your password will cross it in clear text)'];
  }
  if (error instanceof ClientError && error.code === ErrorCode.TLS_REQUIRED) {
    return [`${where} only accepts encrypted connections: run again without --no-tls`];
  }
  return [error instanceof Error ? error.message : String(error)];
}

/**
 * Prints the rooms that announce themselves within the wait, one line each. A room pinned by this
 * terminal client stays listed while it answers on its address, whatever goodbyes the network carries.
 */
async function discover(wait: string | undefined, print: (line: string) => void, known: KnownRooms): Promise<number> {
  const seconds = wait === undefined ? DEFAULT_DISCOVER_SECONDS : Number(wait);
  if (!(seconds > 0 && seconds <= 60)) {
    print(`--wait takes 1 to 60 seconds\n${CHAT_USAGE}`);
    return 2;
  }
  const watcher = watchRooms(
    () => undefined,
    (error) => print(`! looking for rooms failed: ${error.message}`),
    undefined,
    known,
  );
  if ('off' in watcher) {
    print(`! ${watcher.off}`);
    return 1;
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const rooms = watcher.rooms();
  await watcher.stop();
  for (const room of rooms) {
    const security = room.tls ? `encrypted, announced fingerprint ${room.fingerprint}` : 'NOT encrypted';
    const known = room.identity === 'known' ? '; joined before' : room.identity === 'lookalike' ? `; ANOTHER room calls itself "${room.roomName}": not the one you joined` : '';
    print(`room "${room.roomName}" on ${room.hostName} at ${room.host}:${room.port} (${security}; access ${room.access}; protocol ${room.protocol}${known})`);
  }
  print(rooms.length === 0 ? `no rooms found in ${seconds} s` : `${rooms.length} room${rooms.length === 1 ? '' : 's'} found`);
  return 0;
}
