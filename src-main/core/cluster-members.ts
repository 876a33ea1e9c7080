/**
 * The nodes of a room's database (docs/CLUSTER.md, "The room's identity on the bus"): each running node
 * holds a PostgreSQL session advisory lock whose key is its node id, on a connection of its own, for as
 * long as it runs. The locks are the database's own list of its live nodes: one the node's death or
 * stop releases by itself, that no backup or restore copies, and that a copy of the database on another
 * server or under another name does not share (pg_locks names the database). So:
 * - a node believes on the bus only the nodes that hold a lock in its own database (SenderGate), and a
 *   restored copy's nodes, holding theirs in the copy, speak into nothing;
 * - a node without the bus does not start while other nodes hold one, and no node starts while a node
 *   without the bus holds one: either would miss what the others deliver.
 */
import { randomInt } from 'node:crypto';
import pg from 'pg';
import type { ServerLog } from '../server/log.js';
import { StoreOpenError } from '../store/open.js';

/** The lock's first key, saying what kind of node holds it; its second key is the node id. */
const NODE_ON_BUS = 36_001;
const NODE_WITHOUT_BUS = 36_002;
/**
 * PostgreSQL drops the lock of a node whose machine vanished (no FIN or RST) once these keep-alives
 * go unanswered, about 30 s, instead of after the system's default of two hours.
 */
const KEEPALIVES = ['SET tcp_keepalives_idle = 15', 'SET tcp_keepalives_interval = 5', 'SET tcp_keepalives_count = 3'];
/** How long the node waits between attempts to take its lock again after its connection was lost. */
const RELOCK_WAIT_MS = 1000;

/** The live nodes' locks in this database: advisory locks with two keys have objsubid 2. */
const LIVE_NODES = `SELECT classid::int8 AS kind, objid::int8 AS node FROM pg_locks
  WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND classid::int8 IN (${NODE_ON_BUS}, ${NODE_WITHOUT_BUS})
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

export class ClusterMembers {
  private client: pg.Client;
  private closed = false;

  private constructor(
    private readonly url: string,
    /** This node's id on the bus: the lock's second key. */
    readonly nodeId: string,
    private readonly kind: number,
    private readonly log: ServerLog,
    client: pg.Client,
  ) {
    this.client = client;
    this.watch(client);
  }

  /**
   * Takes this node's lock, then refuses (StoreOpenError) a start that would leave a node deaf to the
   * others: without the bus while other nodes run, or at all while a node without the bus runs.
   */
  static async join(url: string, onBus: boolean, log: ServerLog): Promise<ClusterMembers> {
    const kind = onBus ? NODE_ON_BUS : NODE_WITHOUT_BUS;
    const { client, nodeId } = await lock(url, kind);
    try {
      const { rows } = await client.query<{ kind: string; node: string }>(LIVE_NODES);
      const others = rows.filter((row) => row.node !== nodeId || Number(row.kind) !== kind);
      const deaf = others.filter((row) => Number(row.kind) === NODE_WITHOUT_BUS);
      if (!onBus && others.length > 0) {
        throw new StoreOpenError(
          `this room has ${others.length} other node(s) running on its database; a node without the bus would miss what they deliver: ` +
            'start it with --nats like the others (docs/DEPLOYMENT.md, "Three nodes")',
        );
      }
      if (deaf.length > 0) {
        throw new StoreOpenError(
          `a node of this room runs on its database without the bus (started without --nats) and would miss what this node delivers: ` +
            'stop it and start every node with --nats (docs/DEPLOYMENT.md, "Three nodes")',
        );
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return new ClusterMembers(url, nodeId, kind, log, client);
  }

  /** Whether a node of this database, on the bus, has that id now. */
  async admits(nodeId: string): Promise<boolean> {
    if (!/^\d+$/.test(nodeId)) return false;
    const { rows } = await this.client.query<{ node: string }>(`${LIVE_NODES} AND classid::int8 = ${NODE_ON_BUS} AND objid::int8 = $1`, [nodeId]);
    return rows.length > 0;
  }

  /** Ends the connection, and with it the lock: this node is no longer one of the room's. */
  async close(): Promise<void> {
    this.closed = true;
    await this.client.end().catch(() => undefined);
  }

  /** A lost connection lost the lock too: take it again, under the same id, until it is back. */
  private watch(client: pg.Client): void {
    client.on('error', (error) => {
      if (this.closed || client !== this.client) return;
      this.log.error('cluster membership lost', { error: error.message, effect: 'nodes that start meanwhile do not hear this node; taking it again' });
      void this.relock();
    });
  }

  private async relock(): Promise<void> {
    while (!this.closed) {
      await new Promise((resolve) => setTimeout(resolve, RELOCK_WAIT_MS));
      try {
        const { client } = await lock(this.url, this.kind, this.nodeId);
        if (this.closed) {
          await client.end();
          return;
        }
        this.client = client;
        this.watch(client);
        this.log.info('cluster membership back', { node: this.nodeId });
        return;
      } catch (error) {
        this.log.warn('cluster membership not back yet', { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}

/** A connection holding the lock of a node of `kind`: under `nodeId`, or a new random one. */
async function lock(url: string, kind: number, nodeId?: string): Promise<{ client: pg.Client; nodeId: string }> {
  const client = new pg.Client({ connectionString: url, keepAlive: true });
  // An error before 'error' has a listener of the caller's would end the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    for (const setting of KEEPALIVES) await client.query(setting);
    for (;;) {
      const id = nodeId ?? String(randomInt(1, 2 ** 31));
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [kind, Number(id)]);
      if (rows[0]!.locked) return { client, nodeId: id };
      if (nodeId !== undefined) throw new Error(`node id ${nodeId} is held by another connection`);
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
