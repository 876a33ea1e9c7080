/**
 * A lean client speaking the documented protocol (docs/PROTOCOL.md) for load
 * generation: hello, login with a session token, requests matched by id, pings for
 * the heartbeat, pushes handed to a callback. ChatClient carries reconnect and
 * outbox machinery per connection that 10,000 connections cannot afford.
 */
import type { Socket } from 'node:net';
import { PROTOCOL_VERSION } from '../src-shared/protocol/limits.js';
import { openSocket } from '../src-main/client/transport.js';
import { FrameDecoder, encodeFrame } from '../src-main/net/frame.js';

/**
 * Longer than any connect takes: with 10,000 connections on a loaded machine one waited over 30 s in
 * the host's accept queue (one accept per turn of its loop), which is a figure (`login_s`), not a failure.
 */
const CONNECT_TIMEOUT_MS = 600_000;

/** What the load generator needs of a delivered message, from any server it drives. */
export interface Delivery {
  from: string;
  clientMsgId: string;
}

export interface PushedMessage extends Delivery {
  id: number;
  conv: string;
}

/** The fields of an `event` push the load generator reads. */
export interface ChangeEvent {
  kind: string;
  message: { id: number };
}

type Frame = {
  type: string;
  id?: number;
  ok?: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  message?: PushedMessage;
  event?: ChangeEvent;
};

export class WireClient {
  /** Called for every pushed message while the client decodes. */
  onMessage: (message: Delivery) => void = () => undefined;
  /** Called for every conversation change pushed (protocol 1.1 `event`, docs/PROTOCOL.md §17.9). */
  onEvent: (event: ChangeEvent) => void = () => undefined;
  closed = false;
  /** Bytes read from the host, decoded or not. */
  bytesReceived = 0;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private heartbeat: NodeJS.Timeout | null = null;
  private decoding = true;

  private constructor(
    readonly name: string,
    private readonly socket: Socket,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      if (this.decoding) for (const frame of this.decoder.push(chunk)) if (frame.kind === 'frame') this.onFrame(frame.value as Frame);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.stopHeartbeat();
      for (const { reject } of this.pending.values()) reject(new Error(`${name}: connection closed`));
      this.pending.clear();
    });
  }

  /**
   * Connects (over TLS when `tls`: the certificate is not checked, a bench has nothing to pin),
   * says hello and logs in with the token.
   */
  static async login(port: number, name: string, token: string, tls: boolean): Promise<WireClient> {
    // As the app connects: a connection the busy host resets before TLS is tried again (PROTOCOL.md §2.1).
    const { socket } = await openSocket({ host: '127.0.0.1', port, tls, connectTimeoutMs: CONNECT_TIMEOUT_MS, fingerprint: undefined });
    socket.setNoDelay(true);
    const client = new WireClient(name, socket);
    void client.request('hello', { protocol: PROTOCOL_VERSION, client: 'lanchat-bench' });
    await client.request('login', { name, token });
    return client;
  }

  request<T = unknown>(type: string, body: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    const result = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.socket.write(encodeFrame({ type, id, ...body }));
    return result;
  }

  sendToRoom(clientMsgId: string, text: string): Promise<unknown> {
    return this.request('send', { clientMsgId, to: { kind: 'room' }, text });
  }

  /** Pings every `everyMs` so the server's heartbeat check keeps the connection. */
  startHeartbeat(everyMs: number): void {
    this.heartbeat = setInterval(() => this.socket.write(encodeFrame({ type: 'ping' })), everyMs);
  }

  /** Stops decoding what arrives (presence of thousands of others) and only drains the socket. */
  ignoreIncoming(): void {
    this.decoding = false;
  }

  close(): void {
    this.stopHeartbeat();
    this.socket.destroy();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private onFrame(frame: Frame): void {
    if (frame.type === 'message') {
      this.onMessage(frame.message!);
    } else if (frame.type === 'event') {
      this.onEvent(frame.event!);
    } else if (frame.type === 'res') {
      const waiting = this.pending.get(frame.id!);
      if (!waiting) return;
      this.pending.delete(frame.id!);
      if (frame.ok) waiting.resolve(frame.result);
      else waiting.reject(new Error(`${this.name}: ${frame.error!.code} ${frame.error!.message}`));
    }
  }
}
