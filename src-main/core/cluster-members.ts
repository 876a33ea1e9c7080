/**
 * The nodes of a room's database (docs/CLUSTER.md, "The room's identity on the bus"): each running node
 * holds a PostgreSQL session advisory lock whose key is its node id, on a connection of its own, for as
 * long as it runs. The locks are the database's own list of its live nodes: one the node's death or
 * stop releases by itself, that no backup or restore copies, and that a copy of the database on another
 * server or under another name does not share (pg_locks names the database). So:
 * - a node believes on the bus only the nodes that hold a lock in its own database (SenderGate), and a
 *   restored copy's nodes, holding theirs in the copy, speak into nothing;
 * - a node without the bus does not start while other nodes hold one, and no node starts while a node
 *   without the bus holds one: either would miss what the others deliver;
 * - each node also holds, shared, a lock naming its version (NodeVersion), so a node does not join a room
 *   whose running nodes speak another major version of what nodes tell each other, nor migrate the schema
 *   under nodes that run the one it found (docs/DEPLOYMENT.md, "Upgrading").
 */
import { randomInt } from 'node:crypto';
import pg from 'pg';
import type { ServerLog } from '../server/log.js';
import { LATEST_VERSION } from '../store/migrations/index.js';
import { StoreOpenError } from '../store/open.js';

/**
 * What a node of this build speaks to the room's other nodes. `major` changes when nodes of the two
 * versions cannot work together (a bus message's meaning, a room setting's, a lock's); `minor` for a
 * change older nodes ignore safely (a bus message kind they drop, a field they do not read). `schema`
 * is the database schema this build runs (the last migration it knows).
 */
export interface NodeVersion {
  major: number;
  minor: number;
  schema: number;
}

export const NODE_VERSION: NodeVersion = { major: 1, minor: 0, schema: LATEST_VERSION };

/** A node refused because the room's running nodes are of an incompatible version. */
export class IncompatibleNodeError extends StoreOpenError {
  override name = 'IncompatibleNodeError';
  /** The host's exit status: restarting would be refused again (the systemd unit's RestartPreventExitStatus). */
  readonly exitCode = 3;
}

/** The lock's first key, saying what kind of node holds it; its second key is the node id. */
const NODE_ON_BUS = 36_001;
const NODE_WITHOUT_BUS = 36_002;
/** The version lock's first key; its second is versionCode(). Held shared: nodes of one version share one. */
const NODE_VERSION_LOCK = 36_003;
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

/** A version as the lock's second key (an int4): each part below 1000, the major below 2000. */
function versionCode({ major, minor, schema }: NodeVersion): number {
  return major * 1_000_000 + minor * 1000 + schema;
}

function versionOf(code: number): NodeVersion {
  return { major: Math.floor(code / 1_000_000), minor: Math.floor(code / 1000) % 1000, schema: code % 1000 };
}

const shown = (version: NodeVersion): string => `${version.major}.${version.minor} (schema ${version.schema})`;

/** The versions of the nodes running on this database, one row per node connection, none for a node older than the check. */
const LIVE_VERSIONS = `SELECT objid::int8 AS code, pid FROM pg_locks
  WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND classid::int8 = ${NODE_VERSION_LOCK}
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/**
 * Refuses (IncompatibleNodeError) to join nodes that run a version this one cannot work with: another
 * major, or another schema (this one would migrate the database under them, or they migrated it past this
 * one). Another minor works, and is logged.
 */
function checkVersions(others: NodeVersion[], mine: NodeVersion, log: ServerLog): void {
  const problem = (other: NodeVersion): string | null => {
    if (other.major !== mine.major) {
      return `a node of this room runs version ${shown(other)}, which this node (${shown(mine)}) cannot work with: the nodes of a room run one major version`;
    }
    if (other.schema < mine.schema) {
      return `a node of this room runs version ${shown(other)}, on the schema this node (${shown(mine)}) would migrate under it: a new schema needs every node of the room stopped, then the new version started`;
    }
    if (other.schema > mine.schema) {
      return `a node of this room runs version ${shown(other)}, of a newer schema than this node's (${shown(mine)}): update this node`;
    }
    return null;
  };
  const refused = others.map(problem).find((reason) => reason !== null);
  if (refused) {
    log.error('incompatible with the room', { reason: refused, nodeVersion: shown(mine) });
    throw new IncompatibleNodeError(`${refused} (docs/DEPLOYMENT.md, "Upgrading")`);
  }
  const minors = [...new Set(others.filter((other) => other.minor !== mine.minor).map(shown))];
  if (minors.length > 0) log.info('nodes of another minor version', { theirs: minors, nodeVersion: shown(mine) });
}

export class ClusterMembers {
  private client: pg.Client;
  private closed = false;

  private constructor(
    private readonly url: string,
    /** This node's id on the bus: the lock's second key. */
    readonly nodeId: string,
    private readonly kind: number,
    private readonly versionCode: number,
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
  static async join(url: string, onBus: boolean, log: ServerLog, version: NodeVersion = NODE_VERSION): Promise<ClusterMembers> {
    const kind = onBus ? NODE_ON_BUS : NODE_WITHOUT_BUS;
    const code = versionCode(version);
    const { client, nodeId } = await lock(url, kind, undefined, code);
    try {
      const versions = await client.query<{ code: string; pid: number }>(LIVE_VERSIONS);
      const mine = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      checkVersions(
        versions.rows.filter((row) => row.pid !== mine).map((row) => versionOf(Number(row.code))),
        version,
        log,
      );
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
    return new ClusterMembers(url, nodeId, kind, code, log, client);
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
        const { client } = await lock(this.url, this.kind, this.nodeId, this.versionCode);
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

/** A connection holding the lock of a node of `kind` (under `nodeId`, or a new random one) and, shared, its version's. */
async function lock(url: string, kind: number, nodeId: string | undefined, version: number): Promise<{ client: pg.Client; nodeId: string }> {
  const client = new pg.Client({ connectionString: url, keepAlive: true });
  // An error before 'error' has a listener of the caller's would end the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    for (const setting of KEEPALIVES) await client.query(setting);
    await client.query('SELECT pg_advisory_lock_shared($1, $2)', [NODE_VERSION_LOCK, version]);
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
