import { spawn } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { type Server, type Socket, connect as connectTcp, createServer } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ChatClient } from '../client/client.js';
import { ClientError, FingerprintChangedError } from '../client/errors.js';
import { openSocket } from '../client/transport.js';
import type { Host } from '../core/host.js';
import { RawPeer, login, nextEvent, removeDir, startTestHost, tempDir } from '../testing/harness.js';
import { TlsGate, type TlsGateOptions, type TlsIdentity, loadOrCreateIdentity, normalizeFingerprint } from './tls.js';

const hosts: Host[] = [];
const clients: ChatClient[] = [];
const peers: RawPeer[] = [];
const dirs: string[] = [];
const servers: Server[] = [];
const gates: TlsGate[] = [];
const opened: Socket[] = [];

async function host(options: Parameters<typeof startTestHost>[1] = {}, dir = tempDir()): Promise<Host> {
  if (!dirs.includes(dir)) dirs.push(dir);
  const started = await startTestHost(dir, options);
  hosts.push(started);
  return started;
}

async function user(on: Host, name: string, options: Parameters<typeof login>[3] = {}, password?: string): Promise<ChatClient> {
  const client = await login(on, name, password, options);
  clients.push(client);
  return client;
}

/** A bare server admitting through a gate of its own (the identity's folder is removed after the test). */
async function gateServer(
  options: Partial<TlsGateOptions>,
): Promise<{ port: number; secured: TLSSocket[]; identity: TlsIdentity; gate: TlsGate; admitted: () => number }> {
  const dir = tempDir();
  dirs.push(dir);
  const identity = await loadOrCreateIdentity(dir);
  const secured: TLSSocket[] = [];
  const onSecure = (socket: TLSSocket): void => {
    // The product's Connection listens for errors; here a client's reset as the test ends must not be unhandled.
    socket.on('error', () => undefined);
    secured.push(socket);
  };
  const gate = new TlsGate({ identity, handshakeTimeoutMs: 10_000, onSecure, onRejected: () => undefined, ...options });
  gates.push(gate);
  let admitted = 0;
  const server = createServer((socket: Socket) => {
    admitted += 1;
    gate.admit(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, secured, identity, gate, admitted: () => admitted };
}

/** Keeps a client socket until the test ends; openSocket hands it over without an error listener, as its callers add their own. */
function hold(socket: Socket): void {
  socket.on('error', () => undefined);
  opened.push(socket);
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  for (const gate of gates.splice(0)) gate.closeAll();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  for (const client of clients.splice(0)) client.close();
  for (const peer of peers.splice(0)) peer.destroy();
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  for (const dir of dirs.splice(0)) removeDir(dir);
});

describe('room certificate', () => {
  it('is made once, keeps its key private to the user and its fingerprint across restarts', async () => {
    const dir = tempDir();
    const first = await host({}, dir);
    const fingerprint = first.fingerprint!;
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(statSync(join(dir, 'tls-key.pem')).mode & 0o777).toBe(0o600);
    const pem = readFileSync(join(dir, 'tls-cert.pem'), 'utf8');
    // OpenSSL's SHA-256 fingerprint of the DER certificate.
    expect(fingerprint).toBe(createHash('sha256').update(new X509Certificate(pem).raw).digest('hex').toUpperCase().match(/../g)!.join(':'));
    await first.stop();
    const again = await host({}, dir);
    expect(again.fingerprint).toBe(fingerprint);
    expect(readFileSync(join(dir, 'tls-cert.pem'), 'utf8')).toBe(pem);
  });

  it('reads fingerprints written with or without colons, in either case', () => {
    const colons = `${'AB:'.repeat(31)}CD`;
    expect(normalizeFingerprint(colons.toLowerCase())).toBe(colons);
    expect(normalizeFingerprint(colons.replace(/:/g, ' '))).toBe(colons);
    expect(normalizeFingerprint('AB:CD')).toBeNull();
  });
});

describe('TLS connections', () => {
  it('trusts the first certificate, reports its fingerprint and connects again with the pin', async () => {
    const room = await host();
    const alice = await user(room, 'alice');
    expect(alice.hostFingerprint).toBe(room.fingerprint);
    const again = await user(room, 'alice', { fingerprint: room.fingerprint! });
    expect(again.session?.login.name).toBe('alice');
  });

  it('refuses a changed certificate before sending anything, with both fingerprints', async () => {
    const genuine = await host();
    const pinned = genuine.fingerprint!;
    const impostor = await host();
    const attempt = login(impostor, 'alice', 'alice-password', { fingerprint: pinned });
    await expect(attempt).rejects.toBeInstanceOf(FingerprintChangedError);
    const error = (await attempt.catch((e: unknown) => e)) as FingerprintChangedError;
    expect(error).toMatchObject({ code: 'FINGERPRINT_CHANGED', expected: pinned, actual: impostor.fingerprint });
    expect(error.message).toContain(impostor.fingerprint);
    // The password never reached the impostor: the name is still free there.
    const registered = await user(impostor, 'alice', {}, 'another-password');
    expect(registered.session?.login.registered).toBe(true);
  });

  it('stops instead of reconnecting when the host comes back with another certificate', async () => {
    const room = await host();
    const port = room.address.port;
    const alice = await user(room, 'alice');
    const fatal = nextEvent(alice, 'fatal');
    await room.stop();
    // Same port, new data folder: a new certificate, as an impostor would present.
    await host({ port });
    const [error] = await fatal;
    expect(error).toBeInstanceOf(FingerprintChangedError);
    expect(alice.state).toBe('closed');
  });

  it('reconnects, not giving up as on a host without TLS, when its link is cut during the TLS handshake', async () => {
    const room = await host();
    // A relay to the host that, while `cutting` lasts, reads a connection's ClientHello and closes it.
    let cutting = 0;
    let cut = 0;
    const relayed = new Set<Socket>();
    const front = createServer((socket: Socket) => {
      socket.on('error', () => undefined);
      if (cutting > 0) {
        cutting -= 1;
        socket.once('data', () => {
          cut += 1;
          socket.destroy();
        });
        return;
      }
      const upstream = connectTcp(room.address.port, '127.0.0.1');
      upstream.on('error', () => undefined);
      relayed.add(socket);
      opened.push(socket, upstream);
      socket.pipe(upstream).pipe(socket);
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    });
    servers.push(front);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const alice = await login({ address: front.address() as { port: number } }, 'alice');
    clients.push(alice);
    // Back online, or given up: whichever comes first.
    const outcome = new Promise<string>((resolve) => {
      alice.once('online', () => resolve('online'));
      alice.once('fatal', (error) => resolve(`fatal: ${error.code} ${error.message}`));
    });
    cutting = 2;
    for (const socket of relayed) socket.destroy();
    expect(await outcome).toBe('online');
    expect(cut).toBe(2);
    expect((await alice.send({ kind: 'room' }, 'through at last')).text).toBe('through at last');
  });

  it('answers a plaintext client with one unencrypted TLS_REQUIRED bye and closes', async () => {
    const room = await host();
    const peer = await RawPeer.openPlain(room.address.port);
    peers.push(peer);
    peer.send({ type: 'hello', id: 1, protocol: '1.0' });
    const bye = await peer.waitFrame((f) => f.type === 'bye');
    expect(bye).toMatchObject({ error: { code: ErrorCode.TLS_REQUIRED } });
    await peer.waitClosed();
    expect(peer.frames).toHaveLength(1);
    const log = readFileSync(room.logFile, 'utf8');
    expect(log).toContain('plaintext connection refused');
  });

  it('drops a connection that never finishes its handshake', async () => {
    // Nothing else connects to this host: under load a real login could outlast so short a timeout too.
    const room = await host({ authTimeoutMs: 300 });
    const silent = await RawPeer.openPlain(room.address.port);
    peers.push(silent);
    await silent.waitClosed(20_000);
    expect(silent.frames).toEqual([]);
  });

  it('drops a connection whose handshake is garbage, and serves the next one', async () => {
    const room = await host();
    const garbage = await RawPeer.openPlain(room.address.port);
    peers.push(garbage);
    garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    await garbage.waitClosed();
    expect(readFileSync(room.logFile, 'utf8')).toContain('TLS handshake failed');
    expect((await user(room, 'alice')).session?.login.name).toBe('alice');
  });

  it('gives the plain client and the TLS client a clear error when the other side differs', async () => {
    const encrypted = await host();
    const refused = login(encrypted, 'alice', undefined, { tls: false });
    await expect(refused).rejects.toMatchObject({ code: ErrorCode.TLS_REQUIRED });
    expect(((await refused.catch((e: unknown) => e)) as ClientError).message).toContain('only accepts TLS');

    const plain = await host({ tls: false });
    expect(plain.fingerprint).toBeNull();
    const attempt = login(plain, 'alice');
    await expect(attempt).rejects.toMatchObject({ code: 'TLS_UNAVAILABLE' });
    const alice = await user(plain, 'alice', { tls: false });
    expect(alice.hostFingerprint).toBeNull();
    expect(alice.session?.login.name).toBe('alice');
  });

  it('lets a storm of handshakes through, paced by time, every one of them', async () => {
    // The smallest pace: one handshake a turn unless the rest of the turn took longer. The fixture's own onSecure:
    // a secured socket without an error listener saw its client's reset as the test ended (an unhandled ECONNRESET).
    const { port, secured } = await gateServer({ turnMinMs: 0 });
    const storm = 30;
    await Promise.all(Array.from({ length: storm }, () => openSocket({ host: '127.0.0.1', port, tls: true, connectTimeoutMs: 10_000, fingerprint: undefined }).then(({ socket }) => hold(socket))));
    await until(() => secured.length === storm);
    expect(secured).toHaveLength(storm);
  });

  it('paces a storm by what a handshake costs, not by the time its socket takes to make: its first turn begins at most 4', async () => {
    // Which turn of this process's loop each handshake failed in (its garbage is read in the handshake's own work).
    let turn = 0;
    let turning = true;
    const tick = (): void => {
      turn += 1;
      if (turning) setImmediate(tick);
    };
    // The gate's clock stands still but for a millisecond of each handshake's own work, so the
    // machine's load decides nothing: the first turn's share is the least turn (4 ms) at the
    // assumed 1 ms a handshake. Counting only the sockets' making (a few µs each) began all of them.
    let clock = 0;
    const failedIn: number[] = [];
    const { port, admitted } = await gateServer({
      now: () => clock,
      onRejected: () => {
        clock += 1;
        failedIn.push(turn);
      },
    });
    const count = 20;
    const sockets = await Promise.all(
      Array.from({ length: count }, () => new Promise<Socket>((resolve) => { const socket = connectTcp(port, '127.0.0.1', () => resolve(socket)); })),
    );
    for (const socket of sockets) socket.on('error', () => undefined);
    await until(() => admitted() === count);
    setImmediate(tick);
    for (const socket of sockets) socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    await until(() => failedIn.length === count);
    turning = false;
    expect(failedIn.filter((at) => at === failedIn[0]).length).toBeLessThanOrEqual(4);
    expect(new Set(failedIn).size).toBeGreaterThan(1);
    for (const socket of sockets) socket.destroy();
  });

  it('resets, before their handshake, connections that would wait longer than it allows', async () => {
    const busy: number[] = [];
    const rejected: string[] = [];
    const { port, secured, admitted } = await gateServer({ maxWaitMs: 0, onBusy: (refused) => busy.push(refused), onRejected: (_, reason) => rejected.push(reason) });
    const count = 20;
    const sockets = await Promise.all(
      Array.from({ length: count }, () => new Promise<Socket>((resolve) => { const socket = connectTcp(port, '127.0.0.1', () => resolve(socket)); })),
    );
    const errors = sockets.map(
      (socket) =>
        new Promise<string>((resolve) => {
          socket.on('data', () => resolve('answered'));
          socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
          socket.once('close', () => resolve('closed'));
        }),
    );
    // Every first record written at once, to connections the gate already holds, reaches it in one turn: the first
    // waits for the next turn, and none of the rest could be begun at once.
    await until(() => admitted() === count);
    for (const socket of sockets) socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    const outcomes = await Promise.all(errors);
    expect(outcomes.filter((outcome) => outcome === 'ECONNRESET')).toHaveLength(count - 1);
    await until(() => busy.length > 0 && rejected.length > 0);
    expect(busy).toEqual([count - 1]);
    // The one that waited was handshaken (its garbage failed the handshake); nothing was secured.
    expect(rejected).toEqual([expect.stringContaining('TLS handshake failed')]);
    expect(secured).toEqual([]);
    for (const socket of sockets) socket.destroy();
  });
});

/**
 * Debian's `openssl s_client` against a host, as testssl.sh probes it: `input` is typed once the handshake is
 * done, and stdin ends once the output matches `until` (or at once); the whole output, stderr included.
 */
function sClient(port: number, args: string[], input = '', until?: RegExp): Promise<string> {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const read = (chunk: Buffer): void => {
    output += chunk.toString();
    if (until?.test(output)) child.stdin.end();
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  child.stdin.write(input);
  if (!until) child.stdin.end();
  return new Promise((resolve) => child.once('close', () => resolve(output)));
}

/** The suite a handshake settled on, or null when it failed. */
const negotiated = (output: string): string | null => /Cipher is (\S+)/.exec(output)?.[1]?.replace('(NONE)', '') || null;

describe('TLS as a scanner sees it (openssl s_client)', () => {
  it('offers in TLS 1.2 only the AEAD suites with ECDHE, none of the CBC or CCM ones OpenSSL offers by default', async () => {
    const { port } = (await host()).address;
    const obsolete = ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-AES256-CCM8', 'ECDHE-ECDSA-AES128-CCM'];
    const aead = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'];
    const probe = (suites: string[]) => Promise.all(suites.map(async (suite) => negotiated(await sClient(port, ['-tls1_2', '-cipher', suite]))));
    expect(await probe(obsolete)).toEqual(obsolete.map(() => null));
    expect(await probe(aead)).toEqual(aead);
    expect(negotiated(await sClient(port, ['-tls1_3']))).toBe('TLS_AES_128_GCM_SHA256');
  });

  it("chooses by the server's order, whatever order the client offers", async () => {
    const { port } = (await host()).address;
    const offers = ['ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384'];
    for (const offer of offers) expect(negotiated(await sClient(port, ['-tls1_2', '-cipher', offer]))).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
  });

  it('refuses a renegotiation the client begins in TLS 1.2', async () => {
    const { port } = (await host()).address;
    // "R" asks s_client to renegotiate; a second handshake shows as its certificate checked again.
    const output = await sClient(port, ['-tls1_2'], 'R\n', /RENEGOTIATING[\s\S]*(no renegotiation|verify return)/);
    expect(output).toMatch(/RENEGOTIATING[\s\S]*no renegotiation/);
  });
});

describe('a connection reset before its TLS handshake', () => {
  it('is tried again by the client until it gets in, and that one connection is the one it keeps', async () => {
    const { port, secured, identity, gate } = await gateServer({});
    let resets = 3;
    const front = createServer((socket: Socket) => {
      if (resets-- > 0) socket.once('readable', () => socket.resetAndDestroy());
      else gate.admit(socket);
    });
    servers.push(front);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const frontPort = (front.address() as { port: number }).port;
    expect(frontPort).not.toBe(port);
    const { socket, fingerprint } = await openSocket({ host: '127.0.0.1', port: frontPort, tls: true, connectTimeoutMs: 10_000, fingerprint: identity.fingerprint });
    hold(socket);
    expect(resets).toBe(-1);
    expect(fingerprint).toBe(identity.fingerprint);
    await until(() => secured.length === 1);
  });

  it('fails as an unreachable host, not as one without TLS, when the resets last past the connect timeout', async () => {
    let attempts = 0;
    const front = createServer((socket: Socket) => {
      attempts += 1;
      socket.once('readable', () => socket.resetAndDestroy());
    });
    servers.push(front);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const port = (front.address() as { port: number }).port;
    const attempt = openSocket({ host: '127.0.0.1', port, tls: true, connectTimeoutMs: 1000, fingerprint: undefined });
    // Whether the deadline passes during a pause or during the last attempt is the machine's load: both fail the connect.
    await expect(attempt).rejects.toMatchObject({ code: 'CONNECT_FAILED', message: expect.stringMatching(/too busy to answer in time|no answer from/) });
    expect(attempts).toBeGreaterThan(1);
  });
});
