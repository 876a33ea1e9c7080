/**
 * One transfer connection and the attempts over it (docs/PROTOCOL.md §18): `Transfer` opens a TLS
 * connection of its own to the host, checked against the pinned fingerprint, sends the opening frame
 * and reads the host's frames and raw bytes; `withRetries` opens it again while the link drops, with
 * growing waits, until the transfer succeeds or fails for good. What is sent and kept is transfer.ts's.
 */
import type { Socket } from 'node:net';
import { ErrorCode, type WireError } from '../../src-shared/protocol/errors.js';
import { type TransferReply, transferReply } from '../../src-shared/protocol/transfer.js';
import { HEADER_BYTES, encodeFrame } from '../net/frame.js';
import { ClientError } from './errors.js';
import { openSocket } from './transport.js';

/** Where the host is and who is asking: what a logged-in ChatClient knows. */
export interface TransferLink {
  host: string;
  port: number;
  tls: boolean;
  /** The host's pinned certificate fingerprint (null over plain TCP). */
  fingerprint: string | null;
  token: string;
  connectTimeoutMs?: number;
}

/** What decides how a transfer's attempts go on. */
export interface Attempts {
  signal?: AbortSignal;
  /** Times a dropped link is opened again before giving up (default 20, waits growing to 5 s). */
  retries?: number;
  /** Told, with the reason, each time the link dropped or the host was busy and the next attempt waits. */
  onWait?: (error: ClientError) => void;
}

/** Transfer errors a new attempt cannot fix: the host refused, or the file is wrong. */
const FINAL = new Set<string>([
  ErrorCode.BAD_REQUEST,
  ErrorCode.BAD_TOKEN,
  ErrorCode.FILE_TOO_LARGE,
  ErrorCode.STORAGE_FULL,
  ErrorCode.LIMIT_REACHED,
  ErrorCode.HASH_MISMATCH,
  ErrorCode.UNKNOWN_FILE,
  ErrorCode.BANNED,
  'FINGERPRINT_CHANGED',
  'TLS_UNAVAILABLE',
  'PROTOCOL_ERROR',
  'CANCELLED',
  'DISK_FULL',
  'SAVE_FAILED',
]);
/** True for an error no new attempt can fix (cancelling included). */
export function isFinalTransferError(error: unknown): boolean {
  return !(error instanceof ClientError) || FINAL.has(error.code);
}

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5000;
const MAX_REPLY_FRAME_BYTES = 1024 * 1024;

/** Runs one attempt after another while the link drops, with growing waits, until it succeeds or fails for good. */
export async function withRetries<T>(options: Attempts, attempt: () => Promise<T>): Promise<T> {
  const retries = options.retries ?? 20;
  for (let tries = 0; ; tries++) {
    if (options.signal?.aborted) throw cancelled();
    try {
      return await attempt();
    } catch (error) {
      if (options.signal?.aborted) throw cancelled();
      // Anything but the link's own failures (a file that cannot be read, a bug) is not retried.
      if (isFinalTransferError(error) || tries >= retries) throw error;
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** tries);
      options.onWait?.(error as ClientError);
      await sleep((error as ClientError).retryAfterMs ?? base / 2 + Math.random() * (base / 2), options.signal);
    }
  }
}

function cancelled(): ClientError {
  return new ClientError('CANCELLED', 'the transfer was cancelled');
}

/** Resolves after `ms`, or as soon as the signal aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The error a refusal of the host's, or a frame it should not have sent, stands for. */
export function replyError(reply: TransferReply): ClientError {
  const error: WireError =
    reply.type === 'uploaded'
      ? { code: ErrorCode.INTERNAL, message: 'unexpected frame' }
      : reply.type === 'res' && reply.ok
        ? { code: ErrorCode.INTERNAL, message: 'unexpected response' }
        : (reply as { error: WireError }).error;
  return new ClientError(error.code, error.message, error.retryAfterMs);
}

/**
 * One transfer connection: frames in until the first response, then raw bytes or
 * the host's last frame. Every failure of the link rejects what is awaited.
 */
export class Transfer {
  private buffer: Buffer = Buffer.alloc(0);
  private raw = false;
  private failure: ClientError | null = null;
  private wake: (() => void) | null = null;
  private readonly chunks: Buffer[] = [];
  private ended = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.raw) this.chunks.push(chunk);
      else this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.poke();
    });
    socket.on('end', () => {
      this.ended = true;
      this.poke();
    });
    socket.on('close', () => {
      this.ended = true;
      this.poke();
    });
    socket.on('error', (error) => {
      this.failure ??= new ClientError('DISCONNECTED', `the transfer link failed: ${error.message}`);
      this.poke();
    });
  }

  static async open(link: TransferLink, signal: AbortSignal | undefined): Promise<Transfer> {
    const opened = await openSocket({
      host: link.host,
      port: link.port,
      tls: link.tls,
      connectTimeoutMs: link.connectTimeoutMs ?? 10_000,
      fingerprint: link.fingerprint ?? undefined,
      ...(signal ? { signal } : {}),
    });
    const transfer = new Transfer(opened.socket);
    if (signal) {
      const abort = (): void => {
        transfer.fail(cancelled());
      };
      signal.addEventListener('abort', abort, { once: true });
      opened.socket.once('close', () => signal.removeEventListener('abort', abort));
    }
    return transfer;
  }

  /** Sends the opening frame; resolves with its result, rejects with the host's refusal. */
  async request(opener: Record<string, unknown>): Promise<unknown> {
    this.socket.write(encodeFrame(opener));
    const reply = await this.nextFrame();
    if (reply.type === 'res' && reply.ok) return reply.result;
    throw replyError(reply);
  }

  /** The host's next frame. */
  async nextFrame(): Promise<TransferReply> {
    for (;;) {
      if (this.buffer.length >= HEADER_BYTES) {
        const length = this.buffer.readUInt32BE(0);
        if (length === 0 || length > MAX_REPLY_FRAME_BYTES) throw this.fail(new ClientError('PROTOCOL_ERROR', `a frame of ${length} bytes`));
        if (this.buffer.length >= HEADER_BYTES + length) {
          const payload = this.buffer.subarray(HEADER_BYTES, HEADER_BYTES + length);
          this.buffer = this.buffer.subarray(HEADER_BYTES + length);
          const parsed = transferReply.safeParse(parseJson(payload));
          if (!parsed.success) throw this.fail(new ClientError('PROTOCOL_ERROR', 'the host sent a frame this client cannot read'));
          return parsed.data;
        }
      }
      if (this.failure) throw this.failure;
      if (this.ended) throw new ClientError('DISCONNECTED', 'the host closed the transfer link');
      await this.waitForMore();
    }
  }

  /** The bytes after the response, until the host ends the connection. */
  async *rawBytes(): AsyncGenerator<Buffer> {
    this.raw = true;
    if (this.buffer.length > 0) this.chunks.push(this.buffer);
    this.buffer = Buffer.alloc(0);
    for (;;) {
      while (this.chunks.length > 0) yield this.chunks.shift()!;
      if (this.failure) throw this.failure;
      if (this.ended) return;
      await this.waitForMore();
    }
  }

  write(chunk: Buffer): boolean {
    if (this.failure) throw this.failure;
    if (this.socket.destroyed) throw new ClientError('DISCONNECTED', 'the transfer link dropped');
    return this.socket.write(chunk);
  }

  drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        if (this.failure) reject(this.failure);
        else if (this.socket.destroyed) reject(new ClientError('DISCONNECTED', 'the transfer link dropped'));
        else resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: ClientError): ClientError {
    this.failure ??= error;
    this.socket.destroy();
    this.poke();
    return this.failure;
  }

  private waitForMore(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
}
