/**
 * Opening the socket to a host: TLS with the host's certificate checked against
 * the pinned fingerprint before anything is sent, or plain TCP when asked.
 */
import { type Socket, connect as connectTcp } from 'node:net';
import { type SecureContext, TLSSocket, connect as connectTls, createSecureContext } from 'node:tls';
import { TLS_MIN_VERSION, fingerprintOf } from '../net/tls.js';
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

/** Connects; with TLS, resolves only after the host's certificate matched the pin (when there is one). */
export function openSocket({ host, port, tls, connectTimeoutMs, fingerprint: pinned, signal }: TransportOptions): Promise<OpenSocket> {
  const where = `${host}:${port}`;
  if (signal?.aborted) return Promise.reject(cancelledConnect());
  return new Promise((resolve, reject) => {
    const socket = tls
      ? connectTls({ host, port, rejectUnauthorized: false, secureContext: (sharedContext ??= createSecureContext({ minVersion: TLS_MIN_VERSION })) })
      : connectTcp({ host, port });
    const abort = (): void => fail(cancelledConnect());
    const fail = (error: ClientError): void => {
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
        fingerprint = fingerprintOf(socket.getPeerCertificate().raw);
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
      fail(
        tls && isTlsFailure(error)
          ? new ClientError('TLS_UNAVAILABLE', `${where} did not answer with TLS: the host has encryption turned off, or it is not a LanChat host`)
          : new ClientError('CONNECT_FAILED', describeSocketError(error, host, port)),
      );
    });
  });
}

function cancelledConnect(): ClientError {
  return new ClientError('CANCELLED', 'cancelled while connecting');
}

/** An OpenSSL error, or a close in the middle of the handshake: the peer does not speak TLS. */
function isTlsFailure(error: NodeJS.ErrnoException): boolean {
  return (error.code?.startsWith('ERR_SSL_') ?? false) || /before secure TLS connection/.test(error.message);
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
