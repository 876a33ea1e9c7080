/**
 * Transport security. A room has one self-signed certificate, made once and kept
 * in its data folder; clients authenticate the host by pinning the certificate's
 * fingerprint (trust on first use) instead of by a certificate authority.
 * The server side peeks at each new connection's first byte: a TLS handshake is
 * wrapped and handed on, anything else gets one plaintext `bye TLS_REQUIRED`.
 * Handshakes are paced by time: each costs about a millisecond of CPU (key exchange and
 * signature) on the loop thread, and a reconnect storm of hundreds begun in one turn held the
 * loop, and every chat message behind it, for a second; a fixed few per turn fell behind when
 * turns were long. A connection that could not be served soon is reset before its handshake,
 * which a client retries after a short back-off.
 */
import { X509Certificate, constants } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { type SecureContext, TLSSocket, createSecureContext } from 'node:tls';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { formatAddress } from './connection.js';
import { encodeFrame } from './frame.js';
import { TURN_BUDGET_MS, turnSpentMs } from './turn.js';

/** Every TLS connection starts with a handshake record, content type 22. */
const TLS_HANDSHAKE_RECORD = 0x16;
export const TLS_MIN_VERSION = 'TLSv1.2';
/**
 * What the host offers, best first: in TLS 1.2 only ECDHE key exchange with AEAD ciphers, as Mozilla's
 * "intermediate" profile (its DHE suites left out: the room's key is ECDSA); TLS 1.3's suites are all AEAD.
 * A scanner flags the CBC and CCM8 suites that OpenSSL offers by default as obsolete.
 */
export const SERVER_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
].join(':');
/**
 * The server's order wins, and a client may not renegotiate: each renegotiation costs the host a
 * handshake's work for one packet of the client's (a denial of service), and TLS 1.3 has none anyway.
 */
const SERVER_TLS_OPTIONS = constants.SSL_OP_CIPHER_SERVER_PREFERENCE | constants.SSL_OP_NO_RENEGOTIATION;
/** The room's key and certificate in its data folder. */
export const KEY_FILE = 'tls-key.pem';
export const CERT_FILE = 'tls-cert.pem';
/** Pinning, not expiry, is what authenticates the host, so the certificate outlives any room. */
const CERTIFICATE_YEARS = 30;
/**
 * A turn may spend this long beginning handshakes (about 1 ms each) however short the rest of the turn
 * was, within what is left of the turn's budget (turn.ts); at least one a turn.
 */
const HANDSHAKE_TURN_MIN_MS = 4;
/**
 * Beyond that, handshakes get as much time as everything else took since the last of them, up to this:
 * the host's target for the longest turn. Longer turns would also slow the accepting: Node (libuv 1.45
 * and later) accepts one connection per turn of the loop.
 */
const HANDSHAKE_TURN_MAX_MS = 16;
/**
 * A connection that would wait longer than this for its handshake is reset at once: well inside a
 * client's connect timeout (10 s by default), so it retries instead of giving up on a full queue.
 */
const HANDSHAKE_MAX_WAIT_MS = 3000;
/**
 * Until a storm has begun this many handshakes, a handshake is taken to cost ASSUMED_HANDSHAKE_MS of
 * the loop: the first turns' pace (the first batch waits for a turn of the rest) says little.
 */
const PACE_MEASURED_AFTER = 32;
const ASSUMED_HANDSHAKE_MS = 1;

export interface TlsIdentity {
  key: string;
  cert: string;
  /**
   * What clients pin: SHA-256 of the DER certificate, upper-case hex bytes joined by colons, as
   * Node's X509Certificate.fingerprint256 (and OpenSSL) print it.
   */
  fingerprint: string;
}

/** Reads a fingerprint typed or pasted in any common spelling (colons, spaces, lower case). */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/[\s:]/g, '').toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? hex.match(/../g)!.join(':') : null;
}

/**
 * The room's key and certificate from its data folder, made on first use so the
 * fingerprint stays the same across restarts. The key file is readable by its owner only.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<TlsIdentity> {
  const keyFile = join(dataDir, KEY_FILE);
  const certFile = join(dataDir, CERT_FILE);
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const notBeforeDate = new Date();
    const notAfterDate = new Date(notBeforeDate);
    notAfterDate.setFullYear(notAfterDate.getFullYear() + CERTIFICATE_YEARS);
    // Loaded only here, for a room's first start: its X.509 and ASN.1 packages cost every other start about 170 ms of CPU.
    const { generate: generateCertificate } = await import('selfsigned');
    const made = await generateCertificate([{ name: 'commonName', value: 'LanChat room' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
    });
    writeFileSync(keyFile, made.private, { mode: 0o600 });
    writeFileSync(certFile, made.cert, { mode: 0o644 });
  }
  // A key file copied in with looser rights is tightened rather than left readable by others.
  chmodSync(keyFile, 0o600);
  const key = readFileSync(keyFile, 'utf8');
  const cert = readFileSync(certFile, 'utf8');
  return { key, cert, fingerprint: new X509Certificate(cert).fingerprint256 };
}

export interface TlsGateOptions {
  identity: TlsIdentity;
  /** A connection that has not finished its handshake by then is dropped. */
  handshakeTimeoutMs: number;
  onSecure: (socket: TLSSocket) => void;
  /** A plaintext client (refused with TLS_REQUIRED) or a failed handshake, for the log. */
  onRejected: (address: string, reason: string) => void;
  /** Connections reset before their handshake because the gate was too busy, counted over one storm, once it has passed. */
  onBusy?: (refused: number) => void;
  /** The least time a turn may spend beginning handshakes (HANDSHAKE_TURN_MIN_MS); Infinity begins all at once. */
  turnMinMs?: number;
  /** How long a connection may be expected to wait for its handshake before it is reset instead (HANDSHAKE_MAX_WAIT_MS). */
  maxWaitMs?: number;
  /** The pace's clock, performance.now by default; a test passes one that moves only when it says. */
  now?: () => number;
}

/** Sits in front of the server: only TLS connections get through. */
export class TlsGate {
  private readonly context: SecureContext;
  /** Sockets still before or inside their handshake, so closing the server does not wait on them. */
  private readonly pending = new Set<Socket>();
  /** Connections that sent a ClientHello, waiting for their turn to be handshaken, oldest first. */
  private waiting: Socket[] = [];
  /** The storm under way: since when handshakes wait, how many were begun and reset since, when the last batch ended. */
  private storm: { since: number; begun: number; refused: number; lastBatchEnd: number } | null = null;
  /** What one handshake has cost the loop lately, its own work included (see beginHandshakes). */
  private handshakeMs = ASSUMED_HANDSHAKE_MS;
  private readonly now: () => number;

  constructor(private readonly options: TlsGateOptions) {
    this.now = options.now ?? (() => performance.now());
    this.context = createSecureContext({
      key: options.identity.key,
      cert: options.identity.cert,
      minVersion: TLS_MIN_VERSION,
      ciphers: SERVER_CIPHERS,
      secureOptions: SERVER_TLS_OPTIONS,
    });
  }

  admit(raw: Socket): void {
    if (this.tooBusy()) {
      this.refuseBusy(raw);
      return;
    }
    this.pending.add(raw);
    raw.on('close', () => this.pending.delete(raw));
    raw.on('error', () => undefined);
    raw.setTimeout(this.options.handshakeTimeoutMs, () => raw.destroy());
    raw.once('readable', () => {
      const first = raw.read(1) as Buffer | null;
      if (!first) return;
      if (first[0] !== TLS_HANDSHAKE_RECORD) {
        this.refusePlaintext(raw);
        return;
      }
      if (this.tooBusy()) {
        this.refuseBusy(raw);
        return;
      }
      raw.unshift(first);
      this.waiting.push(raw);
      if (!this.storm) {
        const now = this.now();
        this.storm = { since: now, begun: 0, refused: 0, lastBatchEnd: now };
        setImmediate(this.beginHandshakes);
      }
    });
  }

  /** Drops every connection still in the gate. */
  closeAll(): void {
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    this.waiting = [];
  }

  /**
   * Begins this turn's share of the waiting handshakes, by time; the rest wait for the next turn.
   * A handshake's own work (reading the ClientHello, the key exchange, the signature) is not done
   * where its socket is made but in a tick right after this batch (Node's TLSSocket reads what is
   * buffered then): so the batch is sized by what handshakes cost lately, measured after those ticks.
   * Counting only the sockets' making began a few hundred handshakes in a restart's first turn.
   */
  private readonly beginHandshakes = (): void => {
    const storm = this.storm!;
    const start = this.now();
    const turnMinMs = this.options.turnMinMs ?? HANDSHAKE_TURN_MIN_MS;
    const fair = Math.max(turnMinMs, Math.min(HANDSHAKE_TURN_MAX_MS, start - storm.lastBatchEnd));
    // Within what the turn has left (turn.ts), unless unpaced; at least one per turn, however small the budget.
    const budget = turnMinMs === Infinity ? Infinity : Math.min(fair, TURN_BUDGET_MS - turnSpentMs());
    const share = Math.max(1, Math.floor(budget / this.handshakeMs));
    let begun = 0;
    while (this.waiting.length > 0 && begun < share) {
      const raw = this.waiting.shift()!;
      if (raw.destroyed) continue;
      this.handshake(raw);
      begun += 1;
    }
    storm.begun += begun;
    // Queued after the handshakes' own ticks, so it runs once they are done.
    process.nextTick(() => {
      const end = this.now();
      if (begun > 0) this.handshakeMs = (this.handshakeMs + (end - start) / begun) / 2;
      storm.lastBatchEnd = end;
      if (this.waiting.length > 0) {
        setImmediate(this.beginHandshakes);
        return;
      }
      this.storm = null;
      if (storm.refused > 0) this.options.onBusy?.(storm.refused);
    });
  };

  /** Whether a connection arriving now would wait longer than it may, at the pace this storm has kept so far. */
  private tooBusy(): boolean {
    if (!this.storm || this.waiting.length === 0) return false;
    const { since, begun } = this.storm;
    const msPerHandshake = begun >= PACE_MEASURED_AFTER ? (this.now() - since) / begun : ASSUMED_HANDSHAKE_MS;
    return this.waiting.length * msPerHandshake > (this.options.maxWaitMs ?? HANDSHAKE_MAX_WAIT_MS);
  }

  /** A reset, not a close: a client tries a reset again within its connect timeout, while a close fails its connect as a dropped link. */
  private refuseBusy(raw: Socket): void {
    this.storm!.refused += 1;
    raw.on('error', () => undefined);
    raw.resetAndDestroy();
  }

  private handshake(raw: Socket): void {
    const address = formatAddress(raw.remoteAddress, raw.remotePort);
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.context });
    secure.once('error', (error) => {
      this.options.onRejected(address, `TLS handshake failed: ${error.message}`);
      raw.destroy();
    });
    secure.once('secure', () => {
      raw.setTimeout(0);
      this.pending.delete(raw);
      secure.removeAllListeners('error');
      this.options.onSecure(secure);
    });
  }

  private refusePlaintext(raw: Socket): void {
    this.options.onRejected(formatAddress(raw.remoteAddress, raw.remotePort), 'plaintext connection refused: this host requires TLS');
    raw.end(
      encodeFrame({
        type: 'bye',
        error: {
          code: ErrorCode.TLS_REQUIRED,
          message: 'this host only accepts TLS connections: connect with TLS and check its certificate fingerprint',
        },
      }),
    );
    // The peer may never read; end() alone would leave the socket open.
    setTimeout(() => raw.destroy(), 1000).unref();
  }
}
