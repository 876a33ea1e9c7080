/**
 * The bus over NATS (docs/CLUSTER.md, "The bus"): every node of a room publishes on one
 * subject and subscribes to it, so what one node publishes reaches each other node in order.
 * The connection never echoes a node's own messages back (noEcho). A push crosses as the bytes
 * the publishing node encoded once for its own sessions; the other nodes write those bytes as
 * they are. A node believes only the nodes `admits` lets through (SenderGate, bus-gate.ts).
 */
import { randomUUID } from 'node:crypto';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import type { ServerLog } from './log.js';
import type { Bus, BusMessage } from './bus.js';
import { SenderGate } from './bus-gate.js';

/** How a node proves itself to NATS and checks NATS's certificate (docs/DEPLOYMENT.md, "Securing the bus"). */
export interface BusSecurity {
  /** The certificate authority that signed the NATS servers' certificates: given, the link is TLS only. */
  caFile?: string;
  /** The node's NATS user and password. */
  user?: string;
  password?: string;
}

export interface NatsBusOptions {
  /** NATS server URLs ("nats://host:4222"); the client fails over between them. */
  servers: string | string[];
  security?: BusSecurity;
  /** This node's id on the bus (a random one when absent). */
  nodeId?: string;
  /** Whether a node id is one of this room's nodes; what others publish passes only once it is (bus-gate.ts). */
  admits?: (nodeId: string) => Promise<boolean>;
  /** Nodes of one room share the subject; several rooms may share one NATS. */
  subject?: string;
  /** How long the node waits between attempts while NATS is unreachable. */
  reconnectWaitMs?: number;
  /** How often the node says it is alive; NODE_SILENT_HEARTBEATS of them missed and the others take it as gone. */
  heartbeatMs?: number;
  log: ServerLog;
}

/** The header of a message on the wire: its kind and fields but a push's bytes, and the publishing node. */
type Header = Omit<BusMessage, 'bytes'> & { from: string };

const HEADER_LENGTH_BYTES = 4;

export function encodeBusMessage(message: BusMessage, from: string): Buffer {
  const { bytes, ...fields } = message as BusMessage & { bytes?: Buffer };
  const header = Buffer.from(JSON.stringify({ ...fields, from }));
  const length = Buffer.allocUnsafe(HEADER_LENGTH_BYTES);
  length.writeUInt32BE(header.length, 0);
  return Buffer.concat(bytes ? [length, header, bytes] : [length, header]);
}

export function decodeBusMessage(data: Uint8Array): { message: BusMessage; from: string } {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const end = HEADER_LENGTH_BYTES + buffer.readUInt32BE(0);
  const { from, ...fields } = JSON.parse(buffer.toString('utf8', HEADER_LENGTH_BYTES, end)) as Header;
  const message = (fields.kind === 'push' ? { ...fields, bytes: buffer.subarray(end) } : fields) as BusMessage;
  return { message, from };
}

export class NatsBus implements Bus {
  readonly heartbeatMs: number;
  private handler: ((message: BusMessage, from: string) => void) | null = null;
  private beating: NodeJS.Timeout | null = null;
  /** False while NATS is unreachable: what this node would publish then is dropped, not queued (see publish). */
  private reachable = true;
  private readonly gate: SenderGate | null;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly subject: string,
    private readonly log: ServerLog,
    heartbeatMs: number,
    readonly nodeId: string,
    admits: ((nodeId: string) => Promise<boolean>) | undefined,
  ) {
    this.heartbeatMs = heartbeatMs;
    this.gate = admits ? new SenderGate(admits, heartbeatMs, log) : null;
    connection.subscribe(subject, {
      callback: (error, msg) => {
        if (error) {
          this.log.error('bus subscription failed', { error: String(error) });
          return;
        }
        let decoded: { message: BusMessage; from: string };
        try {
          decoded = decodeBusMessage(msg.data);
        } catch (cause) {
          this.log.warn('bus message unreadable', { error: String(cause) });
          return;
        }
        const { message, from } = decoded;
        if (this.gate) this.gate.pass(from, message.kind, () => this.handler?.(message, from));
        else this.handler?.(message, from);
      },
    });
    void this.watch();
  }

  /**
   * Connects; fails (with the servers in the error) when no NATS server answers, when its certificate is
   * not signed by `security.caFile`, or when it refuses the credentials.
   */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const { caFile, user, password } = options.security ?? {};
    const connection = await connect({
      servers: options.servers,
      name: 'lanchat-host',
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? 1000,
      ...(caFile !== undefined ? { tls: { caFile } } : {}),
      ...(user !== undefined ? { user, pass: password ?? '' } : {}),
    });
    const bus = new NatsBus(connection, options.subject ?? 'lanchat.room', options.log, options.heartbeatMs ?? 2000, options.nodeId ?? randomUUID(), options.admits);
    options.log.info('bus connected', { server: connection.getServer(), node: bus.nodeId });
    return bus;
  }

  /**
   * While NATS is down the client would queue publications and send them all on reconnect: pushes
   * long stale, presence already wrong. They are dropped instead: the first heartbeat after the
   * reconnect puts presence right, and a node that misses a message reads it from the database
   * (ClusterFanOut, outbound/cluster-fan-out.ts).
   */
  publish(message: BusMessage): void {
    if (!this.reachable || this.connection.isClosed() || this.connection.isDraining()) return;
    try {
      this.connection.publish(this.subject, encodeBusMessage(message, this.nodeId));
    } catch (error) {
      // Larger than the server's max_payload, say: the caller has committed and must not fail. A
      // message push that does not arrive is read back from the database by the other nodes.
      this.log.error('bus publish failed', { kind: message.kind, error: String(error) });
    }
  }

  /** Whether the NATS server asks its clients for credentials (it says so as they connect). */
  get serverRequiresAuth(): boolean {
    return this.connection.info?.auth_required === true;
  }

  receive(handler: (message: BusMessage, from: string) => void, heartbeat: () => void): void {
    this.handler = handler;
    this.beating = setInterval(heartbeat, this.heartbeatMs).unref();
    heartbeat();
  }

  /** Sends what is published (the fan-out's last words) and closes. */
  get connected(): boolean {
    return this.reachable;
  }

  roundTripMs(): Promise<number> {
    return this.connection.rtt();
  }

  async close(): Promise<void> {
    if (this.beating) clearInterval(this.beating);
    if (this.connection.isClosed()) return;
    if (this.reachable) await this.connection.drain();
    else await this.connection.close();
  }

  /** Logs the loss and the return of NATS: the node serves its own sessions meanwhile. */
  private async watch(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') {
        this.reachable = false;
        this.log.error('bus disconnected', { server: status.server, effect: 'serving this node only until NATS is back' });
      } else if (status.type === 'reconnect') {
        this.reachable = true;
        this.log.info('bus reconnected', { server: status.server });
      } else if (status.type === 'error') {
        this.log.error('bus error', { error: String(status.error) });
      }
    }
  }
}
