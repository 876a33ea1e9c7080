/**
 * A node of a clustered room (issue 16, docs/DEPLOYMENT.md): the room's database on PostgreSQL
 * and the other nodes over NATS, in place of the embedded host's SQLite file. startHost opens
 * a node through here when given `cluster`.
 */
import { randomUUID } from 'node:crypto';
import { NatsBus } from '../server/bus-nats.js';
import type { Bus } from '../server/bus.js';
import type { ServerLog } from '../server/log.js';
import { StoreOpenError } from '../store/open.js';
import { openPgStore } from '../store/pg/open.js';
import type { AsyncStore } from '../store/types.js';

export interface ClusterOptions {
  /** The room's PostgreSQL database, postgres://user:password@host:port/database. */
  postgres: string;
  /** NATS servers (nats://host:port); absent: a single node on PostgreSQL, nobody to tell. */
  nats?: string[];
  /** Tests only: how often the node tells the others it is alive (2 s). */
  heartbeatMs?: number;
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
  const store = await openPgStore(options.postgres, storeOptions);
  let bus: Bus | undefined;
  try {
    const { roomId } = await agree(store, fingerprint ?? NO_TLS);
    if (options.nats) {
      bus = await NatsBus.connect({
        servers: options.nats,
        subject: `lanchat.room.${roomId}`,
        log,
        ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      });
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, ...(bus ? { bus } : {}) };
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
