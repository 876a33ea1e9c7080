/**
 * The reference servers the room workloads also run against, in the same run: ngircd (IRC),
 * mosquitto (MQTT) and nats-server (NATS), when their Debian packages are installed. Each gets a throw-away config on a
 * free loopback port, with its flood limits off as the bench host's are, and a lean client
 * for the same load generator: a room is an IRC channel or an MQTT topic, a message carries the
 * sender's name and the bench's clientMsgId so every receiver can count it.
 * `sendToRoom` resolves when the server has taken the message, as LanChat's answer to a `send`
 * says: IRC has no such answer, so each PRIVMSG is followed by a PING whose PONG (the server
 * handles a client's lines in order) is the acknowledgement, and so for NATS, whose core publish
 * has no answer either; MQTT publishes at QoS 1 (PUBACK).
 * With TLS (the bench's default, `--plain` turns it off) mosquitto and nats-server listen with the
 * room's certificate, as the host does, so the same encryption is compared on both sides.
 * ngircd stays plain: only the burst target compares against it, and the TLS host meets it against
 * plain IRC, the harder comparison.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { CERT_FILE, KEY_FILE, TLS_MIN_VERSION } from '../src-main/net/tls.js';
import { processFigures, type ServerProcess, serverCommand, sleep } from './common.js';
import type { Delivery } from './wire.js';

export type Peer = 'ngircd' | 'mosquitto' | 'nats';

const EXECUTABLES: Record<Peer, string> = { ngircd: '/usr/sbin/ngircd', mosquitto: '/usr/sbin/mosquitto', nats: '/usr/sbin/nats-server' };
export const PACKAGES: Record<Peer, string> = { ngircd: 'ngircd', mosquitto: 'mosquitto', nats: 'nats-server' };

/** Whether the peer's package is installed (`apt-get install -y ngircd mosquitto nats-server`). */
export function peerInstalled(peer: Peer): boolean {
  return spawnSync(EXECUTABLES[peer], ['--version'], { stdio: 'ignore' }).error === undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

/** Resolves once something accepts connections on the port. */
async function accepting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** `dir` holds the room's key and certificate (loadOrCreateIdentity) when `tls`. */
function config(peer: Peer, port: number, dir: string, tls: boolean): string {
  if (peer === 'nats') {
    // No flood limits to turn off; the largest pending output per client (64 MB) is far above a burst's.
    const encrypted = tls ? [`tls { cert_file: "${join(dir, CERT_FILE)}", key_file: "${join(dir, KEY_FILE)}" }`] : [];
    return [`listen: 127.0.0.1:${port}`, ...encrypted, ''].join('\n');
  }
  if (peer === 'mosquitto') {
    const encrypted = tls
      ? [
          `certfile ${join(dir, CERT_FILE)}`,
          `keyfile ${join(dir, KEY_FILE)}`,
          'tls_version tlsv1.3',
          // Run as root it would drop to its own user, which cannot read the key file (mode 0600).
          ...(process.getuid?.() === 0 ? ['user root'] : []),
        ]
      : [];
    // TCP_NODELAY as the LanChat host and the baseline set it; ngircd has no such setting.
    return [`listener ${port} 127.0.0.1`, ...encrypted, 'allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'log_dest none', ''].join('\n');
  }
  return [
    '[Global]',
    'Name = bench.lanchat',
    'Info = LanChat bench',
    'AdminInfo1 = bench',
    'AdminInfo2 = bench',
    'AdminEMail = bench@bench.lanchat',
    'Listen = 127.0.0.1',
    `Ports = ${port}`,
    '[Limits]',
    'MaxConnectionsIP = 0',
    'MaxNickLength = 30',
    // 0 turns the flood penalties off, as the bench host's rate limits are raised.
    'MaxPenaltyTime = 0',
    'PingTimeout = 600',
    'PongTimeout = 600',
    '[Options]',
    'DNS = no',
    'Ident = no',
    'PAM = no',
    '',
  ].join('\n');
}

/** Starts the peer in the foreground on a free port with a config written into `dir`; mosquitto with TLS when `tls`. */
export async function spawnPeer(peer: Peer, dir: string, tls: boolean): Promise<ServerProcess> {
  const port = await freePort();
  const file = join(dir, `${peer}.conf`);
  writeFileSync(file, config(peer, port, dir, tls));
  const args = peer === 'ngircd' ? ['--nodaemon', '--config', file] : peer === 'nats' ? ['--config', file] : ['-c', file];
  const child = spawn(...serverCommand(EXECUTABLES[peer], args), { stdio: 'ignore' });
  await accepting(port, 5000);
  return { ...processFigures(child), port };
}

export interface PeerClient {
  readonly name: string;
  onMessage: (message: Delivery) => void;
  sendToRoom(clientMsgId: string, text: string): Promise<unknown>;
  close(): void;
}

async function connected(port: number, tls = false): Promise<Socket> {
  // The bench's own certificate: nothing to verify it against here.
  const socket = tls
    ? connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: TLS_MIN_VERSION })
    : connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once(tls ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  return socket;
}

/** An IRC client in channel #room: registers, joins, and reads PRIVMSGs "<clientMsgId> <text>". */
export class IrcClient implements PeerClient {
  onMessage: (message: Delivery) => void = () => undefined;
  private rest = '';
  private waiting: { numeric: string; resolve: () => void } | null = null;
  /** Sends waiting for their PONG, oldest first. */
  private readonly unacknowledged: ((value: unknown) => void)[] = [];

  private constructor(
    readonly name: string,
    private readonly socket: Socket,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
  }

  static async join(port: number, name: string): Promise<IrcClient> {
    const client = new IrcClient(name, await connected(port));
    await client.command(`NICK ${name}\r\nUSER ${name} 0 * :bench\r\n`, '001');
    // 366 ends the channel's NAMES list, the last line of a JOIN.
    await client.command('JOIN #room\r\n', '366');
    return client;
  }

  sendToRoom(clientMsgId: string, text: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.unacknowledged.push(resolve);
      this.socket.write(`PRIVMSG #room :${clientMsgId} ${text}\r\nPING :${clientMsgId}\r\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private command(line: string, numeric: string): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = { numeric, resolve };
      this.socket.write(line);
    });
  }

  private onData(chunk: string): void {
    const lines = (this.rest + chunk).split('\r\n');
    this.rest = lines.pop()!;
    for (const line of lines) this.onLine(line);
  }

  /** ":nick!user@host PRIVMSG #room :<clientMsgId> <text>", "PING :token", or a numeric reply. */
  private onLine(line: string): void {
    if (line.startsWith('PING ')) {
      this.socket.write(`PONG ${line.slice(5)}\r\n`);
      return;
    }
    const space = line.indexOf(' ');
    const command = line.slice(space + 1, line.indexOf(' ', space + 1));
    if (command === 'PRIVMSG') {
      const text = line.slice(line.indexOf(' :', space) + 2);
      this.onMessage({ from: line.slice(1, line.indexOf('!')), clientMsgId: text.slice(0, text.indexOf(' ')) });
    } else if (command === 'PONG') {
      this.unacknowledged.shift()?.(undefined);
    } else if (this.waiting && command === this.waiting.numeric) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve();
    }
  }
}

const TOPIC = 'room';

/** MQTT 3.1.1 remaining length: 7 bits a byte, high bit set while more follow. */
function remainingLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
}

function mqttString(text: string): Buffer {
  const bytes = Buffer.from(text);
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte, ...remainingLength(body.length)]), body]);
}

const CONNACK = 2;
const PUBLISH = 3;
const PUBACK = 4;
const SUBACK = 9;

/**
 * An MQTT 3.1.1 client subscribed to the room topic at QoS 0, publishing at QoS 1 with the payload
 * "<name>\n<clientMsgId>\n<text>". A broker echoes a subscriber's own publishes; they are skipped.
 * Hand-written (three packet types each way) so that the generator's parsing costs about what
 * the LanChat and IRC clients' does.
 */
export class MqttClient implements PeerClient {
  onMessage: (message: Delivery) => void = () => undefined;
  private pending: Buffer = Buffer.alloc(0);
  private waiting: { type: number; resolve: () => void } | null = null;
  /** Publishes waiting for their PUBACK by packet id. */
  private readonly unacknowledged = new Map<number, (value: unknown) => void>();
  private packetId = 0;

  private constructor(
    readonly name: string,
    private readonly socket: Socket,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static async join(port: number, name: string, tls: boolean): Promise<MqttClient> {
    const client = new MqttClient(name, await connected(port, tls));
    // Protocol "MQTT" level 4, clean session, no keep-alive; the client id is the name.
    const connectBody = Buffer.concat([mqttString('MQTT'), Buffer.from([4, 0x02, 0, 0]), mqttString(name)]);
    await client.exchange(packet(0x10, connectBody), CONNACK);
    await client.exchange(packet(0x82, Buffer.concat([Buffer.from([0, 1]), mqttString(TOPIC), Buffer.from([0])])), SUBACK);
    return client;
  }

  sendToRoom(clientMsgId: string, text: string): Promise<unknown> {
    // Packet ids are 1 to 65535; far fewer than that are ever in flight.
    const id = (this.packetId % 0xffff) + 1;
    this.packetId = id;
    const header = Buffer.allocUnsafe(2);
    header.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      this.unacknowledged.set(id, resolve);
      this.socket.write(packet(0x32, Buffer.concat([mqttString(TOPIC), header, Buffer.from(`${this.name}\n${clientMsgId}\n${text}`)])));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private exchange(request: Buffer, answer: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = { type: answer, resolve };
      this.socket.write(request);
    });
  }

  private onData(chunk: Buffer): void {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      // Fixed header: type and flags, then the remaining length in up to four bytes.
      let length = 0;
      let offset = 1;
      let multiplier = 1;
      for (;;) {
        if (offset >= data.length) break;
        const byte = data[offset++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          multiplier = 0;
          break;
        }
      }
      if (multiplier !== 0 || data.length < offset + length) break;
      this.onPacket(data[0]! >> 4, data.subarray(offset, offset + length));
      data = data.subarray(offset + length);
    }
    this.pending = data;
  }

  private onPacket(type: number, body: Buffer): void {
    if (type === PUBLISH) {
      const payload = body.toString('utf8', 2 + body.readUInt16BE(0));
      const [from, clientMsgId] = payload.split('\n', 2) as [string, string];
      if (from !== this.name) this.onMessage({ from, clientMsgId });
    } else if (type === PUBACK) {
      const id = body.readUInt16BE(0);
      this.unacknowledged.get(id)?.(undefined);
      this.unacknowledged.delete(id);
    } else if (this.waiting?.type === type) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve();
    }
  }
}

/**
 * A NATS client subscribed to subject `room`, publishing "<name> <clientMsgId> <text>" with echo off
 * (a subscriber does not get its own publishes). Core NATS acknowledges nothing: each PUB is followed
 * by a PING whose PONG (the server handles a client's commands in order) is the acknowledgement.
 * With TLS, nats-server 2.9 sends its INFO in the clear and the client upgrades after it.
 * Hand-written (MSG, PING and PONG in; CONNECT, SUB, PUB, PING out), as the IRC and MQTT clients are.
 */
export class NatsClient implements PeerClient {
  onMessage: (message: Delivery) => void = () => undefined;
  private rest = '';
  /** Sends waiting for their PONG, oldest first (the first PONG answers the CONNECT's PING). */
  private readonly unacknowledged: ((value: unknown) => void)[] = [];

  private constructor(
    readonly name: string,
    private readonly socket: Socket,
  ) {
    // One byte a character: a MSG's length counts bytes, and the bench's texts are ASCII.
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
  }

  static async join(port: number, name: string, tls: boolean): Promise<NatsClient> {
    let socket = await connected(port);
    // The INFO line comes first, in the clear.
    await new Promise<void>((resolve) => {
      let line = '';
      const onInfo = (chunk: Buffer): void => {
        line += chunk.toString('latin1');
        if (!line.includes('\r\n')) return;
        socket.off('data', onInfo);
        resolve();
      };
      socket.on('data', onInfo);
    });
    if (tls) {
      const upgraded = connectTls({ socket, rejectUnauthorized: false, minVersion: TLS_MIN_VERSION });
      await new Promise<void>((resolve, reject) => {
        upgraded.once('secureConnect', resolve);
        upgraded.once('error', reject);
      });
      upgraded.on('error', () => undefined);
      socket = upgraded;
    }
    const client = new NatsClient(name, socket);
    const options = { verbose: false, pedantic: false, echo: false, tls_required: tls, name, lang: 'bench', version: '1', protocol: 1 };
    await new Promise((resolve) => {
      client.unacknowledged.push(resolve);
      socket.write(`CONNECT ${JSON.stringify(options)}\r\nSUB ${TOPIC} 1\r\nPING\r\n`);
    });
    return client;
  }

  sendToRoom(clientMsgId: string, text: string): Promise<unknown> {
    const payload = `${this.name} ${clientMsgId} ${text}`;
    return new Promise((resolve) => {
      this.unacknowledged.push(resolve);
      this.socket.write(`PUB ${TOPIC} ${Buffer.byteLength(payload)}\r\n${payload}\r\nPING\r\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  /** "MSG room 1 <bytes>\r\n<payload>\r\n", "PING", "PONG", "+OK" or "-ERR ...". */
  private onData(chunk: string): void {
    let data = this.rest + chunk;
    let at = 0;
    for (;;) {
      const end = data.indexOf('\r\n', at);
      if (end < 0) break;
      if (data.startsWith('MSG ', at)) {
        const length = Number(data.slice(data.lastIndexOf(' ', end) + 1, end));
        const payloadEnd = end + 2 + length;
        if (data.length < payloadEnd + 2) break;
        const payload = data.slice(end + 2, payloadEnd);
        const first = payload.indexOf(' ');
        this.onMessage({ from: payload.slice(0, first), clientMsgId: payload.slice(first + 1, payload.indexOf(' ', first + 1)) });
        at = payloadEnd + 2;
        continue;
      }
      if (data.startsWith('PING', at)) this.socket.write('PONG\r\n');
      else if (data.startsWith('PONG', at)) this.unacknowledged.shift()?.(undefined);
      else if (data.startsWith('-ERR', at)) console.error(`nats-server to ${this.name}: ${data.slice(at, end)}`);
      at = end + 2;
    }
    data = data.slice(at);
    this.rest = data;
  }
}
