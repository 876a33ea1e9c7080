/**
 * Test helpers: real hosts on 127.0.0.1 in temp folders, real clients, and a raw
 * socket for speaking the wire protocol byte by byte.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Result } from '../../src-shared/api.js';
import { PROTOCOL_VERSION } from '../../src-shared/protocol/limits.js';
import type { PresenceState, ServerFrame } from '../../src-shared/protocol/pushes.js';
import { ChatClient, type ClientEvents } from '../client/client.js';
import type { ClientOptions } from '../client/options.js';
import { type Host, type HostOptions, startHost } from '../core/host.js';
import { FrameDecoder, encodeFrame } from '../net/frame.js';
import { CERT_FILE, KEY_FILE, type TlsIdentity, loadOrCreateIdentity } from '../net/tls.js';
import { hashPassword } from '../server/password.js';
import { openStore } from '../store/store.js';
import { nameKey } from '../../src-shared/protocol/names.js';
import { nameSkeleton } from '../../src-shared/text.js';

/** Cheaper scrypt for tests that register many users; one test keeps the default. */
export const TEST_PASSWORD_COST = 10;

/**
 * Accounts written into a host's data folder before the host starts, each with the password
 * `${name}-secret` hashed at TEST_PASSWORD_COST (logins check a hash at the cost it was made with).
 * A host process hashes registrations at the product's cost: seconds for a handful on a loaded machine.
 */
export async function seedUsers(dataDir: string, names: string[]): Promise<void> {
  const store = openStore(join(dataDir, 'chat.sqlite'));
  try {
    for (const name of names) {
      const passwordHash = await hashPassword(`${name}-secret`, TEST_PASSWORD_COST);
      store.createUser({ name, nameKey: nameKey(name), skeleton: nameSkeleton(name), passwordHash, createdAt: Date.now() });
    }
  } finally {
    await store.close();
  }
}

export function tempDir(prefix = 'lanchat-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a test's folder; a store in it must have been closed and awaited (its threads write there until then). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every file below `dir` (a host's folder: database, write-ahead log, search index, file store, logs) with its bytes. */
export function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .flatMap((entry) => {
      const path = join(entry.parentPath, entry.name);
      // Gone since it was listed (a WAL checkpointed away, a part file renamed).
      return existsSync(path) ? [{ path, bytes: readFileSync(path) }] : [];
    });
}

/** The files below `dir` that hold `needle` (text as UTF-8). */
export function filesHolding(dir: string, needle: string | Buffer): string[] {
  const bytes = typeof needle === 'string' ? Buffer.from(needle) : needle;
  return filesUnder(dir)
    .filter((file) => file.bytes.includes(bytes))
    .map((file) => file.path);
}

/** Whether any file below `dir` holds `text`. */
export function folderHolds(dir: string, text: string): boolean {
  return filesHolding(dir, text).length > 0;
}

/** A call's offer as Chromium writes one, with one certificate fingerprint (SHA-256, at session level: RFC 8122). */
export const offerSdp = (fingerprint: string): string =>
  ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', `a=fingerprint:sha-256 ${fingerprint}`, 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=setup:actpass', 'a=mid:0', ''].join('\r\n');

/** An App API call's value; its error, code and message, thrown. */
export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** Tests register many users from 127.0.0.1 in a moment; the storm test sets the real limits. */
const TEST_REGISTRATION_LIMITS = { registrationsPerMinute: 10_000, addressRegistrationsPerMinute: 10_000 };

/**
 * Presence is paced per second in the product; tests that only wait for it to pass wait a fifth.
 * roster.test keeps the product's where a reconnect must fit in the window.
 */
export const TEST_PRESENCE_WINDOW_MS = 200;

/**
 * Making a room's identity costs about 30 ms of CPU (and a host process 170 ms more to load the
 * packages that make it), and the suite starts a few hundred rooms: a worker makes IDENTITIES of
 * them and then hands them out in turn, written into a new room's folder as if it had started there
 * before. Rooms a test starts one after another still differ, up to IDENTITIES of them; a restarted
 * room keeps its own, and a folder that has one keeps it.
 */
const IDENTITIES = 8;
const identities: TlsIdentity[] = [];
let nextIdentity = 0;

export async function seedIdentity(dataDir: string): Promise<void> {
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory() || existsSync(join(dataDir, KEY_FILE)) || existsSync(join(dataDir, CERT_FILE))) return;
  if (identities.length < IDENTITIES) {
    identities.push(await loadOrCreateIdentity(dataDir));
    return;
  }
  const { key, cert } = identities[nextIdentity++ % IDENTITIES]!;
  writeFileSync(join(dataDir, KEY_FILE), key, { mode: 0o600 });
  writeFileSync(join(dataDir, CERT_FILE), cert);
}

export async function startTestHost(dataDir: string, options: Partial<HostOptions> = {}): Promise<Host> {
  if (options.tls !== false) await seedIdentity(dataDir);
  return startHost({
    dataDir,
    port: 0,
    bind: '127.0.0.1',
    passwordCost: TEST_PASSWORD_COST,
    presenceWindowMs: TEST_PRESENCE_WINDOW_MS,
    ...options,
    limits: { ...TEST_REGISTRATION_LIMITS, ...options.limits },
  });
}

/** A logged-in client; closed by closeAll. */
export async function login(
  host: { address: { port: number } },
  name: string,
  password = `${name}-secret`,
  options: Partial<ClientOptions> = {},
): Promise<ChatClient> {
  const client = new ChatClient({
    host: '127.0.0.1',
    port: host.address.port,
    name,
    password,
    backoffMinMs: 50,
    backoffMaxMs: 300,
    ...options,
  });
  await client.connect();
  return client;
}

/** Resolves with the first event of that name matching the predicate. */
export function nextEvent<E extends keyof ClientEvents>(
  client: ChatClient,
  event: E,
  predicate: (...args: ClientEvents[E]) => boolean = () => true,
  timeoutMs = WAIT_MS,
): Promise<ClientEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener as never);
      reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: ClientEvents[E]): void => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      client.off(event, listener as never);
      resolve(args);
    };
    client.on(event, listener as never);
  });
}

/** Alice says something and bob must get it: the server still serves. */
export async function stillServing(alice: ChatClient, bob: ChatClient, text: string): Promise<void> {
  const got = nextEvent(bob, 'message', (m) => m.text === text);
  await alice.send({ kind: 'room' }, text);
  await got;
}

/** Collects every message event of a client. */
export function collectMessages(client: ChatClient): { texts: () => string[]; ids: () => number[] } {
  const seen: { id: number; text: string }[] = [];
  client.on('message', (m) => seen.push({ id: m.id, text: m.text }));
  return { texts: () => seen.map((m) => m.text), ids: () => seen.map((m) => m.id) };
}

/**
 * Records the acknowledgements and failures of a burst of sends, and runs `kill` once `killAfter`
 * of them are acknowledged (a crash in the middle of the burst); `ackedAtKill` is -1 until then.
 */
export function killAfterAcks(clients: ChatClient[], killAfter: number, kill: () => void): { acked: Map<string, number>; failed: string[]; ackedAtKill: () => number } {
  const acked = new Map<string, number>();
  const failed: string[] = [];
  let ackedAtKill = -1;
  for (const client of clients) {
    client.on('sent', ({ clientMsgId, message }) => {
      acked.set(clientMsgId, message.id);
      if (ackedAtKill < 0 && acked.size >= killAfter) {
        kill();
        ackedAtKill = acked.size;
      }
    });
    client.on('sendFailed', ({ clientMsgId, error }) => failed.push(`${clientMsgId}: ${error.code}`));
  }
  return { acked, failed, ackedAtKill: () => ackedAtKill };
}

/**
 * How long a wait may take before its test fails: long enough for a loaded machine (issue 37: the unit
 * suite at load 10, where 5 s was not always enough for a thread or a timer; a whole run beside a busy
 * loop, where a socket's answers took longer than 5 s to pile up). A passing wait ends as soon as its
 * condition holds, so only a failing test pays for it; a shorter bound would only make tests flaky.
 */
export const WAIT_MS = 20_000;

/** What waitFor waits for, in its error; a function is read at the timeout (what a session printed by then, say). */
type Waited = string | (() => string);

/**
 * Resolves once `condition` holds (an async one, a request to the host say, is awaited before the next
 * check), checking every 10 ms; fails after WAIT_MS, or `timeoutMs` when longer.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what?: Waited): Promise<void>;
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what?: Waited): Promise<void>;
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutOrWhat: number | Waited = WAIT_MS, what: Waited = 'condition'): Promise<void> {
  const [bound, named] = typeof timeoutOrWhat === 'number' ? [Math.max(WAIT_MS, timeoutOrWhat), what] : [WAIT_MS, timeoutOrWhat];
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > bound) throw new Error(`timed out waiting for ${typeof named === 'function' ? named() : named}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The states the `presence` pushes among the frames announce, in order; only the user's, if named. */
export function presenceIn(frames: readonly ServerFrame[], user?: string): PresenceState[] {
  return frames.flatMap((frame) => (frame.type === 'presence' ? frame.users.filter((state) => user === undefined || state.user === user) : []));
}

/** A frame predicate: a `presence` push announcing the user (online or offline, if given). */
export function announces(user: string, online?: boolean): (frame: ServerFrame) => boolean {
  return (frame) => frame.type === 'presence' && frame.users.some((state) => state.user === user && (online === undefined || state.online === online));
}

/** A socket that speaks frames by hand, for protocol-level tests. */
export class RawPeer {
  readonly frames: ServerFrame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder(16 * 1024 * 1024);
  private nextId = 1;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) if (frame.kind === 'frame') this.frames.push(frame.value as ServerFrame);
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  /** Over TLS, as every client of a default host must connect (the certificate is not checked here).
   * localAddress: another loopback address (127.0.0.2…) to appear as a different machine. */
  static open(port: number, localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(localAddress ? { localAddress } : {}) }, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  /** Plain TCP: for a host started with tls: false, or to see a TLS host refuse it. */
  static openPlain(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  send(frame: Record<string, unknown>): void {
    this.socket.write(encodeFrame(frame));
  }

  /** Sends a request and waits for its response frame (long enough for real password hashes on a loaded machine). */
  async request(type: string, body: Record<string, unknown> = {}): Promise<ServerFrame> {
    const id = this.nextId++;
    this.send({ type, id, ...body });
    return this.waitFrame((f) => f.type === 'res' && f.id === id);
  }

  async waitFrame(predicate: (frame: ServerFrame) => boolean, timeoutMs = WAIT_MS): Promise<ServerFrame> {
    let found: ServerFrame | undefined;
    await waitFor(() => (found = this.frames.find(predicate)) !== undefined, timeoutMs, 'a matching frame');
    return found!;
  }

  waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    return waitFor(() => this.closed, timeoutMs, 'the server to close the socket');
  }

  async hello(): Promise<void> {
    await this.request('hello', { protocol: PROTOCOL_VERSION });
  }

  async login(name: string, password = `${name}-secret`): Promise<ServerFrame> {
    await this.hello();
    return this.request('login', { name, password });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
