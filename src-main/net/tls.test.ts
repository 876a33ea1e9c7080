import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import type { ChatClient } from '../client/client.js';
import { ClientError, FingerprintChangedError } from '../client/errors.js';
import type { Host } from '../core/host.js';
import { RawPeer, login, nextEvent, removeDir, startTestHost, tempDir } from '../testing/harness.js';
import { TlsGate, fingerprintOf, loadOrCreateIdentity, normalizeFingerprint } from './tls.js';

const hosts: Host[] = [];
const clients: ChatClient[] = [];
const peers: RawPeer[] = [];
const dirs: string[] = [];

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

afterEach(async () => {
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
    // Our one definition agrees with OpenSSL's SHA-256 fingerprint of the DER certificate.
    expect(fingerprintOf(new X509Certificate(pem).raw)).toBe(new X509Certificate(pem).fingerprint256);
    expect(fingerprint).toBe(new X509Certificate(pem).fingerprint256);
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
    const fatal = nextEvent(alice, 'fatal', () => true, 10_000);
    await room.stop();
    // Same port, new data folder: a new certificate, as an impostor would present.
    await host({ port });
    const [error] = await fatal;
    expect(error).toBeInstanceOf(FingerprintChangedError);
    expect(alice.state).toBe('closed');
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

  it('drops a connection that never finishes its handshake, and one whose handshake is garbage', async () => {
    const room = await host({ authTimeoutMs: 300 });
    const silent = await RawPeer.openPlain(room.address.port);
    const garbage = await RawPeer.openPlain(room.address.port);
    peers.push(silent, garbage);
    garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    await garbage.waitClosed();
    await silent.waitClosed();
    expect(silent.frames).toEqual([]);
    expect(readFileSync(room.logFile, 'utf8')).toContain('TLS handshake failed');
    // The server is unharmed.
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

  it('lets a storm of handshakes through a few per event-loop turn, every one of them', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const identity = await loadOrCreateIdentity(dir);
    const secured: TLSSocket[] = [];
    const gate = new TlsGate({ identity, handshakeTimeoutMs: 10_000, handshakesPerTurn: 1, onSecure: (socket) => secured.push(socket), onRejected: () => undefined });
    const server = createServer((socket: Socket) => gate.admit(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const storm = 30;
    const clients = await Promise.all(
      Array.from(
        { length: storm },
        () =>
          new Promise<TLSSocket>((resolve, reject) => {
            const client = connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(client));
            client.once('error', reject);
          }),
      ),
    );
    await new Promise<void>((resolve) => {
      const check = (): void => (secured.length === storm ? resolve() : void setTimeout(check, 5));
      check();
    });
    expect(secured).toHaveLength(storm);
    for (const client of clients) client.destroy();
    gate.closeAll();
    for (const socket of secured) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
