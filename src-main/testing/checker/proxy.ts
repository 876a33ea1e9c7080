/**
 * A TCP relay between the clients and a host, so the checker can cut a client's link
 * in the middle of a frame: the bytes of one write are forwarded only in part, then
 * both sides are destroyed; or let requests through and lose the host's answers
 * (muteHost) or hold them until released (holdHost), or, on plain TCP, change the frames
 * the host writes (rewriteHost: a host that tampers with what it relays). TLS passes through
 * untouched. While the host is down the relay stops listening too, so a client sees its
 * connection refused as it would without a relay.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';
import { LIMITS } from '../../../src-shared/protocol/limits.js';
import { FrameDecoder, encodeFrame } from '../../net/frame.js';

export class LinkProxy {
  private readonly links = new Set<[Socket, Socket]>();
  /** Host ends of links whose bytes are no longer passed on (muteHost). */
  private readonly muted = new Set<Socket>();
  /** What the host wrote on each link while held (holdHost), in order; null when not held. */
  private held: Map<Socket, Buffer[]> | null = null;
  /** Client bytes still to pass before the host's are held (holdHostAfter). */
  private holdAfter = Infinity;
  /** What one link's client may pass before the rest it writes is lost (muteClientsAfter). */
  private clientBytesPerLink = Infinity;
  private cutNext = false;
  private rewrite: ((frame: unknown) => unknown) | null = null;
  cuts = 0;

  private server: Server | null = null;

  private constructor(readonly port: number, private readonly target: () => number) {}

  static async start(port: number, target: () => number): Promise<LinkProxy> {
    const proxy = new LinkProxy(port, target);
    await proxy.listen();
    return proxy;
  }

  async listen(): Promise<void> {
    const server = createServer((client) => this.relay(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
  }

  /** Stops accepting; the links already open stay until their host end closes. */
  stopListening(): void {
    this.server?.close();
    this.server = null;
  }

  /** How many client links are open through it. */
  get linkCount(): number {
    return this.links.size;
  }

  /** The next client write is forwarded by half, then its link is torn down. */
  cutMidFrame(): void {
    this.cutNext = true;
  }

  /** On the links open now, what the host writes is dropped from here on: requests reach it, its answers never arrive. */
  muteHost(): void {
    for (const [, upstream] of this.links) this.muted.add(upstream);
  }

  /** What the host writes is kept from here on, on every link, until releaseHost passes it on. */
  holdHost(): void {
    this.held ??= new Map();
  }

  /**
   * The host's bytes are held (holdHost) once the clients have written `clientBytes` more: an upload's
   * opening goes through and its end's answer does not, however fast the upload.
   */
  holdHostAfter(clientBytes: number): void {
    this.holdAfter = clientBytes;
  }

  /**
   * On links opened from now on, once a link's client has written `bytes`, the rest it writes is lost: an
   * upload stalls part way, its first part at the host, however fast the machine; a link that writes less
   * (the chat's) is untouched.
   */
  muteClientsAfter(bytes: number): void {
    this.clientBytesPerLink = bytes;
  }

  /** Passes on what was held, and ends the holding, a hold still waiting for its client bytes included. */
  releaseHost(): void {
    const held = this.held;
    this.held = null;
    this.holdAfter = Infinity;
    for (const [client, chunks] of held ?? []) for (const chunk of chunks) if (!client.destroyed) client.write(chunk);
  }

  /** On links opened from now on (plain TCP), each frame the host writes is passed on as `rewrite` returns it. */
  rewriteHost(rewrite: (frame: unknown) => unknown): void {
    this.rewrite = rewrite;
  }

  close(): void {
    for (const [a, b] of this.links) {
      a.destroy();
      b.destroy();
    }
    this.stopListening();
  }

  private relay(client: Socket): void {
    const upstream = connect({ host: '127.0.0.1', port: this.target() });
    const link: [Socket, Socket] = [client, upstream];
    this.links.add(link);
    const end = (): void => {
      this.links.delete(link);
      this.muted.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    let clientBytesLeft = this.clientBytesPerLink;
    client.on('data', (chunk: Buffer) => {
      if (clientBytesLeft < chunk.length) {
        upstream.write(chunk.subarray(0, Math.max(0, clientBytesLeft)));
        clientBytesLeft = 0;
        return;
      }
      clientBytesLeft -= chunk.length;
      this.holdAfter -= chunk.length;
      if (this.holdAfter <= 0) {
        this.holdAfter = Infinity;
        this.holdHost();
      }
      if (this.cutNext && chunk.length > 1) {
        this.cutNext = false;
        this.cuts++;
        upstream.write(chunk.subarray(0, chunk.length >> 1), end);
        return;
      }
      upstream.write(chunk);
    });
    const rewrite = this.rewrite;
    // Bytes that are not frames (a plain host's TLS alert to a client trying TLS first) end the rewriting of that link.
    let decoder = rewrite === null ? null : new FrameDecoder(LIMITS.maxFrameBytes);
    upstream.on('data', (chunk: Buffer) => {
      if (this.muted.has(upstream)) return;
      if (this.held) {
        const chunks = this.held.get(client) ?? [];
        if (chunks.length === 0) this.held.set(client, chunks);
        chunks.push(chunk);
        return;
      }
      const frames = decoder?.push(chunk) ?? [];
      if (rewrite === null || frames.some((frame) => frame.kind !== 'frame')) decoder = null;
      if (decoder === null) client.write(chunk);
      else for (const frame of frames) if (frame.kind === 'frame') client.write(encodeFrame(rewrite!(frame.value)));
    });
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }
}
