/**
 * Transport security. A room has one self-signed certificate, made once and kept
 * in its data folder; clients authenticate the host by pinning the certificate's
 * fingerprint (trust on first use) instead of by a certificate authority.
 * The server side peeks at each new connection's first byte: a TLS handshake is
 * wrapped and handed on, anything else gets one plaintext `bye TLS_REQUIRED`.
 * Handshakes are begun a few per event-loop turn: each costs about a millisecond of CPU
 * (key exchange and signature) on the loop thread, and a reconnect storm of hundreds
 * begun in one turn held the loop, and every chat message behind it, for a second.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { type SecureContext, TLSSocket, createSecureContext } from 'node:tls';
import { ErrorCode } from '../../src-shared/protocol/errors.js';
import { formatAddress } from './connection.js';
import { encodeFrame } from './frame.js';

/** Every TLS connection starts with a handshake record, content type 22. */
const TLS_HANDSHAKE_RECORD = 0x16;
export const TLS_MIN_VERSION = 'TLSv1.2';
/** The room's key and certificate in its data folder. */
export const KEY_FILE = 'tls-key.pem';
export const CERT_FILE = 'tls-cert.pem';
/** Pinning, not expiry, is what authenticates the host, so the certificate outlives any room. */
const CERTIFICATE_YEARS = 30;
/** At about 1 ms each, a turn's share of handshakes keeps the loop's delay within a few ms. */
export const HANDSHAKES_PER_TURN = 4;

export interface TlsIdentity {
  key: string;
  cert: string;
  fingerprint: string;
}

/**
 * The one definition of a host's fingerprint: SHA-256 of the DER certificate,
 * upper-case hex bytes joined by colons (the form Node and OpenSSL print).
 */
export function fingerprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** Reads a fingerprint typed or pasted in any common spelling (colons, spaces, lower case). */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/[\s:]/g, '').toUpperCase();
  return /^[0-9A-F]{64}$/.test(hex) ? hex.match(/../g)!.join(':') : null;
}

function derOf(pem: string): Buffer {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (!body) throw new Error('no certificate in the PEM text');
  return Buffer.from(body.replace(/\s/g, ''), 'base64');
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
  return { key, cert, fingerprint: fingerprintOf(derOf(cert)) };
}

export interface TlsGateOptions {
  identity: TlsIdentity;
  /** A connection that has not finished its handshake by then is dropped. */
  handshakeTimeoutMs: number;
  onSecure: (socket: TLSSocket) => void;
  /** A plaintext client (refused with TLS_REQUIRED) or a failed handshake, for the log. */
  onRejected: (address: string, reason: string) => void;
  /** Handshakes begun per event-loop turn; HANDSHAKES_PER_TURN unless set. */
  handshakesPerTurn?: number;
}

/** Sits in front of the server: only TLS connections get through. */
export class TlsGate {
  private readonly context: SecureContext;
  /** Sockets still before or inside their handshake, so closing the server does not wait on them. */
  private readonly pending = new Set<Socket>();
  /** Connections that sent a ClientHello, waiting for their turn to be handshaken, oldest first. */
  private waiting: Socket[] = [];
  private draining = false;

  constructor(private readonly options: TlsGateOptions) {
    this.context = createSecureContext({ key: options.identity.key, cert: options.identity.cert, minVersion: TLS_MIN_VERSION });
  }

  admit(raw: Socket): void {
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
      raw.unshift(first);
      this.waiting.push(raw);
      if (!this.draining) {
        this.draining = true;
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

  /** Begins this turn's share of the waiting handshakes; the rest wait for the next turn. */
  private readonly beginHandshakes = (): void => {
    for (let begun = 0; begun < (this.options.handshakesPerTurn ?? HANDSHAKES_PER_TURN) && this.waiting.length > 0; begun++) {
      const raw = this.waiting.shift()!;
      if (!raw.destroyed) this.handshake(raw);
    }
    if (this.waiting.length > 0) setImmediate(this.beginHandshakes);
    else this.draining = false;
  };

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
