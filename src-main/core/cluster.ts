/**
 * A node of a clustered room (issue 16, docs/DEPLOYMENT.md): the room's database on PostgreSQL
 * and the other nodes over NATS, in place of the embedded host's SQLite file. startHost opens
 * a node through here when given `cluster`.
 */
import { randomUUID } from 'node:crypto';
import { type BusSecurity, NatsBus } from '../server/bus-nats.js';
import type { Bus } from '../server/bus.js';
import type { ServerLog } from '../server/log.js';
import { StoreOpenError } from '../store/open.js';
import { openPgStore } from '../store/pg/open.js';
import type { AsyncStore } from '../store/types.js';
import { ClusterMembers, type NodeVersion } from './cluster-members.js';

export interface ClusterOptions {
  /** The room's PostgreSQL database, postgres://user:password@host:port/database. */
  postgres: string;
  /** NATS servers (nats://host:port); absent: a single node on PostgreSQL, nobody to tell. */
  nats?: string[];
  /** TLS and credentials for NATS: without both (and a NATS that asks for them) a node does not start, unless `insecureBus`. */
  busSecurity?: BusSecurity;
  /** Starts on a bus anyone who reaches NATS may read and write (`--insecure-bus`): for a test bench, never a real room. */
  insecureBus?: boolean;
  /** Tests only: how often the node tells the others it is alive (2 s). */
  heartbeatMs?: number;
  /** Tests only: the version this node says it runs (NODE_VERSION), to meet nodes of another. */
  version?: NodeVersion;
}

/** Room settings the nodes agree on through the database. */
const FINGERPRINT_SETTING = 'cluster.tlsFingerprint';
const ROOM_ID_SETTING = 'cluster.roomId';
/** What FINGERPRINT_SETTING holds for a room whose nodes run without TLS. */
const NO_TLS = 'none (TLS off)';

export interface ClusterNode {
  store: AsyncStore;
  /** Absent without NATS. */
  bus?: Bus;
  /** Ends this node's membership of the room (cluster-members.ts); after the server and the bus closed. */
  leave(): Promise<void>;
}

/**
 * Opens the database and the bus. The first node to start records its certificate's fingerprint
 * (and a room id, which names the room's NATS subject, so rooms may share one NATS); a node whose
 * certificate differs is refused with StoreOpenError, since clients pin one certificate per room
 * whichever node they reach.
 */
export async function openClusterNode(
  options: ClusterOptions,
  fingerprint: string | null,
  log: ServerLog,
  storeOptions: { maxUserBytesPerDay?: number },
): Promise<ClusterNode> {
  if (options.nats && !options.insecureBus) refuseOpenBus(options.busSecurity);
  // Joined before the store opens: a node refused for its version must not migrate the schema first.
  const members = await ClusterMembers.join(options.postgres, options.nats !== undefined, log, options.version);
  let store: AsyncStore;
  try {
    store = await openPgStore(options.postgres, storeOptions);
  } catch (error) {
    await members.close();
    throw error;
  }
  let bus: NatsBus | undefined;
  try {
    const { roomId } = await agree(store, fingerprint ?? NO_TLS);
    const admitting = members;
    if (options.nats) {
      bus = await NatsBus.connect({
        servers: options.nats,
        subject: `lanchat.room.${roomId}`,
        log,
        nodeId: members.nodeId,
        admits: (nodeId) => admitting.admits(nodeId),
        ...(options.busSecurity ? { security: options.busSecurity } : {}),
        ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      });
      if (!options.insecureBus && !bus.serverRequiresAuth) {
        throw new StoreOpenError(
          'the NATS server lets clients in without credentials: anyone who reaches it could read the room and write into it; ' +
            'give it an authorization block (docs/DEPLOYMENT.md, "Securing the bus"), or start with --insecure-bus on a test bench',
        );
      }
    }
  } catch (error) {
    await bus?.close();
    await members.close();
    await store.close();
    throw error;
  }
  return { store, ...(bus ? { bus } : {}), leave: () => members.close() };
}

/** A clustered node needs TLS to NATS and credentials, unless told to do without (`insecureBus`). */
function refuseOpenBus(security: BusSecurity | undefined): void {
  const missing = [
    ...(security?.caFile === undefined ? ['TLS (--nats-ca: the certificate authority of the NATS servers)'] : []),
    ...(security?.user === undefined || security.password === undefined
      ? ['credentials (--nats-user, with --nats-password or LANCHAT_NATS_PASSWORD)']
      : []),
  ];
  if (missing.length === 0) return;
  throw new StoreOpenError(
    `the bus to the other nodes would be open: without ${missing.join(' and ')} anyone who reaches NATS reads every message of the room ` +
      'and can forge what nodes tell each other. See docs/DEPLOYMENT.md, "Securing the bus"; on a test bench, --insecure-bus starts anyway',
  );
}

/**
 * Reads the room's recorded fingerprint and id, recording them if this is the first node.
 * Inside changeGroups because that is the store's one transaction, and on PostgreSQL it takes
 * the log lock first: two nodes starting at once cannot both record theirs.
 */
async function agree(store: AsyncStore, fingerprint: string): Promise<{ roomId: string }> {
  const { result } = await store.changeGroups(Date.now(), async (tx) => {
    const recorded = await tx.roomSetting(FINGERPRINT_SETTING);
    let roomId = await tx.roomSetting(ROOM_ID_SETTING);
    if (recorded === undefined) await tx.setRoomSetting(FINGERPRINT_SETTING, fingerprint);
    if (roomId === undefined) {
      roomId = randomUUID();
      await tx.setRoomSetting(ROOM_ID_SETTING, roomId);
    }
    return { result: { recorded: recorded ?? fingerprint, roomId }, events: [] };
  });
  if (result.recorded !== fingerprint) {
    throw new StoreOpenError(
      `this node's certificate (${fingerprint}) is not the room's (${result.recorded}, recorded by its first node): ` +
        'every node of a room presents the same certificate; copy tls-key.pem and tls-cert.pem from the data folder of a running node into this one',
    );
  }
  return { roomId: result.roomId };
}
