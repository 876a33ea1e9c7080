/**
 * Opening the socket to a host: TLS with the host's certificate checked against
 * the pinned fingerprint before anything is sent, or plain TCP when asked.
 */
import { type Socket, connect as connectTcp } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SecureContext, TLSSocket, connect as connectTls, createSecureContext } from 'node:tls';
import { TLS_MIN_VERSION } from '../net/tls.js';
import { ClientError, FingerprintChangedError } from './errors.js';

export interface TransportOptions {
  host: string;
  port: number;
  tls: boolean;
  connectTimeoutMs: number;
  /** The certificate fingerprint the host must present; without one any certificate is accepted. */
  fingerprint: string | undefined;
  /** Aborting gives up the connection at once, handshake or not, with CANCELLED. */
  signal?: AbortSignal;
}

/** The open socket and, over TLS, the fingerprint of the certificate the host presented. */
export interface OpenSocket {
  socket: Socket;
  fingerprint: string | null;
}

/**
 * One TLS context for every connection of the process. Without it each connect builds its own and
 * loads the system's CA store into it (about 0.5 ms of CPU, half of a reconnect's client-side
 * handshake), though the pin, not a certificate authority, decides whom to trust.
 */
let sharedContext: SecureContext | undefined;

/**
 * A TLS host too busy to handshake soon resets the connection before its handshake (net/tls.ts): tried
 * again after half to all of this, doubling up to REFUSED_RETRY_MAX_MS, while the connect timeout lasts.
 */
const REFUSED_RETRY_MIN_MS = 100;
const REFUSED_RETRY_MAX_MS = 1000;

/** A reset before the TLS handshake: the host is there and busy. */
class RefusedBeforeTls extends Error {}

/**
 * Connects; with TLS, resolves only after the host's certificate matched the pin (when there is one).
 * A connection the host resets before the handshake is tried again within `connectTimeoutMs`.
 */
export async function openSocket(options: TransportOptions): Promise<OpenSocket> {
  const deadline = performance.now() + options.connectTimeoutMs;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt({ ...options, connectTimeoutMs: Math.max(0, deadline - performance.now()) });
    } catch (error) {
      if (!(error instanceof RefusedBeforeTls)) throw error;
      const base = Math.min(REFUSED_RETRY_MAX_MS, REFUSED_RETRY_MIN_MS * 2 ** retry);
      const delayMs = base / 2 + Math.random() * (base / 2);
      if (performance.now() + delayMs >= deadline) throw new ClientError('CONNECT_FAILED', `${options.host}:${options.port} was too busy to answer in time`);
      try {
        await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        throw cancelledConnect();
      }
    }
  }
}

/** Whether host:port answers a TLS handshake with this certificate. Nothing is sent over it. */
export async function answersWith(host: string, port: number, fingerprint: string, connectTimeoutMs: number): Promise<boolean> {
  try {
    const { socket } = await openSocket({ host, port, tls: true, fingerprint, connectTimeoutMs });
    socket.destroy();
    return true;
  } catch {
    return false;
  }
}

function attempt({ host, port, tls, connectTimeoutMs, fingerprint: pinned, signal }: TransportOptions): Promise<OpenSocket> {
  const where = `${host}:${port}`;
  if (signal?.aborted) return Promise.reject(cancelledConnect());
  return new Promise((resolve, reject) => {
    const socket = tls
      ? connectTls({ host, port, rejectUnauthorized: false, secureContext: (sharedContext ??= createSecureContext({ minVersion: TLS_MIN_VERSION })) })
      : connectTcp({ host, port });
    const abort = (): void => fail(cancelledConnect());
    const fail = (error: Error): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new ClientError('CONNECT_FAILED', `no answer from ${where}`)), connectTimeoutMs);
    signal?.addEventListener('abort', abort, { once: true });
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      let fingerprint: string | null = null;
      if (socket instanceof TLSSocket) {
        const certificate = socket.getPeerX509Certificate();
        if (!certificate) {
          fail(new ClientError('TLS_UNAVAILABLE', `${where} presented no certificate`));
          return;
        }
        // Computed natively: getPeerCertificate() builds every field, about ten times the CPU of a connect's check.
        fingerprint = certificate.fingerprint256;
        if (pinned !== undefined && fingerprint !== pinned) {
          fail(new FingerprintChangedError(pinned, fingerprint, where));
          return;
        }
      }
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      socket.removeAllListeners('error');
      resolve({ socket, fingerprint });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (tls && isTlsFailure(error)) {
        fail(new ClientError('TLS_UNAVAILABLE', `${where} did not answer with TLS: the host has encryption turned off, or it is not a LanChat host`));
      } else if (tls && closedInHandshake(error)) {
        fail(new ClientError('CONNECT_FAILED', `the connection to ${where} was closed during its TLS handshake`));
      } else if (tls && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
        fail(new RefusedBeforeTls());
      } else {
        fail(new ClientError('CONNECT_FAILED', describeSocketError(error, host, port)));
      }
    });
  });
}

function cancelledConnect(): ClientError {
  return new ClientError('CANCELLED', 'cancelled while connecting');
}

/**
 * OpenSSL could not read what the peer sent as TLS: the peer does not speak it (a LanChat host without
 * TLS answers a ClientHello with a plain `bye`).
 */
function isTlsFailure(error: NodeJS.ErrnoException): boolean {
  return error.code?.startsWith('ERR_SSL_') ?? false;
}

/**
 * The link closed in the middle of the handshake without a byte the peer sent: a link cut or a host
 * going down, which says nothing about TLS, so the client tries again as after any drop.
 */
function closedInHandshake(error: NodeJS.ErrnoException): boolean {
  return /before secure TLS connection/.test(error.message);
}

function describeSocketError(error: NodeJS.ErrnoException, host: string, port: number): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `nothing is listening on ${host}:${port}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host} could not be found`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} cannot be reached from this network`;
    case 'ETIMEDOUT':
      return `no answer from ${host}:${port}`;
    default:
      return `could not connect to ${host}:${port}: ${error.message}`;
  }
}
